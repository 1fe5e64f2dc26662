"""`carto import addresses FILE...`: thin typer command over `importer.import_addresses`,
registered by `carto/cli.py`; heavy imports stay inside so `carto --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from carto.errors import CartoError

console = Console(stderr=True)
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Dossier du cluster embarqué (défaut ./var).")
]


def import_addresses_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="adresses-59.csv.gz, adresses-france.csv.gz… (Base Adresse Nationale)"),
    ],
    data_dir: DataDirOpt = None,
) -> None:
    """Load the national address base (BAN CSV, .csv or .csv.gz); idempotent (by BAN id)."""
    import psycopg

    from carto.geocoding.importer import import_addresses
    from carto.runtime import database_url, upgrade
    from carto.settings import get_settings

    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console,
    )  # fmt: skip
    try:
        url = database_url(settings, start=True)
        upgrade(url)
        with psycopg.connect(url) as conn, progress:
            for path in files:
                task = progress.add_task(f"{path.name} : lecture", total=None)

                def report(
                    stage: str, done: int, total: int, task: TaskID = task, name: str = path.name
                ) -> None:
                    progress.update(
                        task, description=f"{name} : {stage}", completed=done, total=total
                    )

                result = import_addresses(conn, path, progress=report)
                progress.update(task, description=f"{path.name} : terminé")
                console.print(
                    f"{path.name} : {result.rows} lignes lues, {result.skipped} ignorées, "
                    f"{result.streets} voies et {result.addresses} adresses ajoutées ou "
                    f"mises à jour en {result.seconds:.1f} s"
                )
    except CartoError as exc:
        console.print(f"[red]Erreur :[/red] {exc.message}")
        raise typer.Exit(code=2) from None
