"""The codes the API returns and their French labels, from one place.

Upper-feature layer: it reads the pure definition modules of `signalements` and
`concertations` (no I/O there) and serves them to the web app; a migration copies
them into the `vocabulary` table that the public views join.
"""
