"""`carto tiles ...`: static exports of the tile layers (thin; the work is in export.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

tiles_app = typer.Typer(help="Tuiles vectorielles : exports statiques.")
console = Console(stderr=True)


@tiles_app.command("export")
def export_cmd(
    layer: Annotated[str, typer.Argument(help="Couche : signalements, communes...")],
    file: Annotated[Path, typer.Argument(help="Fichier .pmtiles à écrire.")],
    minzoom: Annotated[int, typer.Option("--minzoom")] = 0,
    maxzoom: Annotated[int, typer.Option("--maxzoom")] = 14,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Dossier du cluster embarqué.")
    ] = None,
) -> None:
    """Write LAYER's tiles into FILE.pmtiles (for an edge cache or offline use)."""
    from carto.errors import CartoError
    from carto.runtime import database_url, upgrade
    from carto.settings import get_settings
    from carto.tiles.export import export_pmtiles_sync

    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})

    def progress(zoom: int, count: int) -> None:
        console.print(f"zoom {zoom} : {count} tuiles")

    try:
        url = database_url(settings, start=True)
        upgrade(url)
        report = export_pmtiles_sync(
            url, layer, file, minzoom=minzoom, maxzoom=maxzoom, progress=progress
        )
    except CartoError as exc:
        console.print(f"[red]Erreur :[/red] {exc.message}")
        raise typer.Exit(code=2) from None
    console.print(
        f"{report.path} : {report.tiles} tuiles (zooms {report.minzoom}-{report.maxzoom}), "
        f"{report.bytes / 1024:.0f} Kio"
    )
