"""`carto import contributions`, `carto import layer` and `carto report concertation`.

Thin typer commands, registered by `carto/cli.py`. They run on psycopg 3 (sync for
the contribution import and the report, async psycopg for the layer import, which
shares the API's service). Heavy imports stay inside the commands so that `carto
--help` stays fast.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from carto.errors import CartoError

if TYPE_CHECKING:
    from carto.concertations.reference_layers import LayerImport, ReferenceLayerInput

console = Console(stderr=True)
report_app = typer.Typer(help="Produire des rapports.")

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Dossier du cluster embarqué (défaut ./var).")
]


def _url(data_dir: Path | None) -> str:
    from carto.runtime import database_url, upgrade
    from carto.settings import get_settings

    settings = get_settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    url = database_url(settings, start=True)
    upgrade(url)
    return url


def _fail(exc: CartoError) -> None:
    console.print(f"[red]Erreur :[/red] {exc.message}")
    raise typer.Exit(code=2)


def import_contributions_cmd(
    slug: Annotated[str, typer.Argument(help="Identifiant (slug) de la concertation")],
    file: Annotated[Path, typer.Argument(help="CSV (lon, lat ou wkt), GeoJSON, GeoPackage...")],
    channel: Annotated[
        str, typer.Option(help="Canal par défaut : workshop, paper, kiosk, assisted")
    ] = "paper",
    agent: Annotated[str | None, typer.Option(help="E-mail de l'agent qui saisit")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Import workshop, paper or kiosk contributions; each row checked like an online one."""
    from sqlalchemy import text

    from carto.concertations.importer import import_contributions
    from carto.db import make_sync_engine

    try:
        engine = make_sync_engine(_url(data_dir))
        with engine.begin() as conn:
            entered_by = None
            if agent:
                entered_by = conn.execute(
                    text("SELECT id FROM app_user WHERE email = :e"), {"e": agent.strip().lower()}
                ).scalar()
                if entered_by is None:
                    raise typer.BadParameter(f"compte inconnu : {agent}")
            result = import_contributions(
                conn, slug, file, entered_by=entered_by, default_channel=channel
            )
        engine.dispose()
    except CartoError as exc:
        _fail(exc)
    console.print(
        f"{file.name} : {result.read} lignes, {result.imported} importées "
        f"({result.held} retenues pour modération), {result.duplicates} déjà présentes, "
        f"{len(result.skipped)} refusées"
    )
    for number, reason in result.skipped[:50]:
        console.print(f"  ligne {number} : {reason}")


def import_layer_cmd(
    slug: Annotated[str, typer.Argument(help="Identifiant (slug) de la concertation")],
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile...")],
    title: Annotated[str, typer.Option(help="Titre de la couche")],
    role: Annotated[str, typer.Option(help="reference ou constraint")] = "reference",
    rule: Annotated[str | None, typer.Option(help="no_overlap, min_distance, inside")] = None,
    distance: Annotated[float | None, typer.Option(help="Distance minimale (m)")] = None,
    action: Annotated[str, typer.Option(help="reject ou flag")] = "reject",
    message: Annotated[str, typer.Option(help="Motif montré au participant")] = "",
    layer_slug: Annotated[str | None, typer.Option("--slug", help="Identifiant")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Attach a reference or constraint layer to a concertation (replaces a same-slug one)."""
    from pydantic import ValidationError

    from carto.concertations.reference_layers import ReferenceLayerInput

    try:
        meta = ReferenceLayerInput(
            title=title, slug=layer_slug, role=role, rule=rule, distance_m=distance,  # type: ignore[arg-type]
            action=action, message=message,  # type: ignore[arg-type]
        )  # fmt: skip
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(str(e["msg"]) for e in exc.errors())) from None
    try:
        result = asyncio.run(_import_layer(_url(data_dir), slug, file, meta))
    except CartoError as exc:
        _fail(exc)
    console.print(
        f"{file.name} : couche « {result.slug} », {result.features} entités "
        f"({result.repaired} réparées, {result.skipped} vides ignorées)"
    )


async def _import_layer(url: str, slug: str, file: Path, meta: ReferenceLayerInput) -> LayerImport:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from carto.concertations.reference_layers import import_reference_layer
    from carto.db import with_driver

    engine = create_async_engine(with_driver(url, "psycopg"))
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            return await import_reference_layer(
                session=session, ref=slug, path=file, meta=meta, principal=None
            )
    finally:
        await engine.dispose()


@report_app.command("concertation")
def report_concertation(
    slug: Annotated[str, typer.Argument(help="Identifiant (slug) ou numéro de la concertation")],
    file: Annotated[Path, typer.Argument(help="Fichier HTML à écrire")],
    data_dir: DataDirOpt = None,
) -> None:
    """Write the synthesis of a concertation as one self-contained HTML file with a map."""
    from sqlalchemy import text

    from carto.concertations.report import build_report
    from carto.concertations.synthesis import connection_runner
    from carto.db import make_sync_engine

    try:
        engine = make_sync_engine(_url(data_dir))
        with engine.connect() as conn:
            k = conn.execute(
                text("SELECT id FROM concertation WHERE slug = :s OR CAST(id AS text) = :s"),
                {"s": slug},
            ).scalar()
            if k is None:
                raise CartoError(f"Concertation inconnue : {slug}")
            page = asyncio.run(build_report(connection_runner(conn), int(k)))
        engine.dispose()
    except CartoError as exc:
        _fail(exc)
    file.write_text(page, encoding="utf-8")
    console.print(f"Rapport écrit : {file} ({len(page) // 1024} Ko)")
