"""Vector tiles, heatmaps and hexagon counts, read from the `public_layers` views.

Interfaces for other packages: `carto.tiles.grid.tiles_touching(lon, lat, zooms)` and
`carto.tiles.cache.invalidate_point(session=..., layer=..., lon=..., lat=...)`; writers
normally need neither, the triggers of the `tiles` migration branch keep the cache and
the heat grid current.
"""
