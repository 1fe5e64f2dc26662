"""The `carto` command: a thin layer over the runtime, the importers and uvicorn.

Only typer and rich are imported with the command: settings (pydantic), the database
drivers, the geo libraries and the app come inside the commands that use them, so that
`carto --help` answers at once (`tests/test_cli_startup.py` holds it).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from carto import france_cli
from carto.accounts.platform_cli import admin_app
from carto.apiclients.cli import api_client_app
from carto.concertations import cli as concertation_cli
from carto.errors import CartoError
from carto.geocoding.cli import import_addresses_cmd
from carto.ops import cli as ops_cli
from carto.tiles.cli import tiles_app

if TYPE_CHECKING:
    from carto.settings import Settings

app = typer.Typer(
    help="Carto : cartographie participative et signalements géolocalisés.",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="La base PostGIS (cluster embarqué ou CARTO_DATABASE_URL).")
import_app = typer.Typer(help="Importer des données.")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(tiles_app, name="tiles")
app.add_typer(concertation_cli.report_app, name="report")
app.add_typer(api_client_app, name="api-client")
app.add_typer(admin_app, name="admin")


def _vacuum_after(command: Callable[..., None]) -> Callable[..., None]:
    """An import that bulk-writes tile rows ends with VACUUM (ANALYZE) of the tile tables
    (carto/tiles/maintenance.py): pages all-visible, so dense tiles stay index-only."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        command(*args, **kwargs)
        from carto.runtime import database_url
        from carto.tiles.maintenance import vacuum_tile_tables

        vacuum_tile_tables(database_url(_settings(kwargs.get("data_dir")), start=True))

    return run


import_app.command("contributions")(_vacuum_after(concertation_cli.import_contributions_cmd))
import_app.command("layer")(_vacuum_after(concertation_cli.import_layer_cmd))
import_app.command("addresses")(import_addresses_cmd)
import_app.command("france")(france_cli.import_france_cmd)  # analyzes, no vacuum: see there
import_app.command("contacts")(france_cli.import_contacts_cmd)
app.command("reroute")(france_cli.reroute_cmd)
db_app.command("backup")(ops_cli.backup_cmd)
db_app.command("restore")(ops_cli.restore_cmd)
app.command("doctor")(ops_cli.doctor_cmd)
console = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Dossier du cluster embarqué (défaut ./var).")
]
HostOpt = Annotated[str | None, typer.Option("--host", help="Adresse d'écoute.")]
PortOpt = Annotated[int | None, typer.Option("--port", help="Port d'écoute.")]


def _settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    from pydantic import ValidationError

    from carto.settings import get_settings

    try:
        base = get_settings()
    except ValidationError as exc:  # a bad CARTO_* value: say which, without a traceback
        for err in exc.errors():
            console.print(f"[red]Configuration :[/red] {err['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(code=2) from None
    update = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        update["data_dir"] = data_dir
    return base.model_copy(update=update) if update else base


def _fail(exc: CartoError) -> None:
    console.print(f"[red]Erreur :[/red] {exc.message}")
    raise typer.Exit(code=2)


@db_app.command("start")
def db_start(data_dir: DataDirOpt = None) -> None:
    """Start the embedded cluster (initdb on first use) and migrate."""
    from carto.runtime import database_url, embedded_cluster, upgrade

    settings = _settings(data_dir)
    try:
        if settings.uses_embedded_cluster:
            from carto.embedded_owner import disown

            cluster = embedded_cluster(settings)
            started = cluster.ensure_started()
            disown(cluster)  # the operator's now: no `carto demo` will stop it on exit
            console.print("Cluster démarré." if started else "Cluster déjà en marche.")
        upgrade(database_url(settings, start=True))
    except CartoError as exc:
        _fail(exc)


@db_app.command("stop")
def db_stop(data_dir: DataDirOpt = None) -> None:
    """Stop the embedded cluster."""
    from carto.runtime import embedded_cluster

    settings = _settings(data_dir)
    if not settings.uses_embedded_cluster:
        console.print("CARTO_DATABASE_URL est défini : base externe, rien à arrêter.")
        return
    try:
        stopped = embedded_cluster(settings).stop()
    except CartoError as exc:
        _fail(exc)
    console.print("Cluster arrêté." if stopped else "Le cluster ne tournait pas.")


@db_app.command("status")
def db_status(data_dir: DataDirOpt = None) -> None:
    """Print the cluster's state as JSON (exit 1 when it is not running)."""
    from carto.runtime import embedded_cluster

    settings = _settings(data_dir)
    if not settings.uses_embedded_cluster:
        print(json.dumps({"external": True}))
        return
    status = embedded_cluster(settings).status()
    print(json.dumps(status))
    if not status["running"]:
        raise typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDirOpt = None) -> None:
    """Apply the Alembic migrations (starting the embedded cluster if needed)."""
    from carto.runtime import database_url, upgrade

    try:
        upgrade(database_url(_settings(data_dir), start=True))
    except CartoError as exc:
        _fail(exc)
    console.print("Base à jour.")


class RoleChoice(StrEnum):
    owner = "owner"
    app = "app"
    reader = "reader"


@db_app.command("url")
def db_url(
    data_dir: DataDirOpt = None,
    role: Annotated[
        RoleChoice,
        typer.Option(
            "--role", help="owner (migrations, DDL), app (écritures) ou reader (QGIS, lectures)."
        ),
    ] = RoleChoice.owner,
) -> None:
    """Print the libpq URL of the database in use for a role (the reader's for QGIS)."""
    from carto.runtime import database_url, embedded_cluster

    settings = _settings(data_dir)
    try:
        if settings.uses_embedded_cluster:
            print(embedded_cluster(settings).role_url(role.value))
            return
        configured = {
            "owner": settings.database_url,
            "app": settings.app_database_url,
            "reader": settings.reader_database_url,
        }[role.value]
        if configured is None:
            raise CartoError(f"CARTO_{role.value.upper()}_DATABASE_URL n'est pas défini.")
        print(database_url(settings.model_copy(update={"database_url": configured})))
    except CartoError as exc:
        _fail(exc)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@import_app.command("territories")
@_vacuum_after
def import_territories(
    files: Annotated[list[Path], typer.Argument(help="GeoJSON, GeoPackage, Shapefile, FlatGeobuf")],
    data_dir: DataDirOpt = None,
) -> None:
    """Import communes (with arrondissements) or intercommunalities, upserting by code."""
    import psycopg

    from carto.runtime import database_url, upgrade
    from carto.territories.importer import import_file

    settings = _settings(data_dir)
    try:
        url = database_url(settings, start=True)
        upgrade(url)
        with psycopg.connect(url) as conn, _progress() as bar:
            for path in files:
                task = bar.add_task(f"{path.name}", total=None)

                def report(
                    stage: str, done: int, total: int, task: TaskID = task, name: str = path.name
                ) -> None:
                    bar.update(task, description=f"{name} : {stage}", completed=done, total=total)

                result = import_file(conn, path, progress=report)
                conn.commit()
                bar.update(task, description=f"{path.name} : terminé", completed=1, total=1)
                console.print(
                    f"{path.name} : {result.read} entités lues ({result.kind}), "
                    f"{result.repaired} réparées, {result.skipped} ignorées, "
                    f"{result.upserted} en {result.seconds:.1f} s"
                )
    except CartoError as exc:
        _fail(exc)


@import_app.command("streets")
def import_streets(
    osm_file: Annotated[Path, typer.Argument(help="Extrait OpenStreetMap (.osm, .osm.pbf)")],
    data_dir: DataDirOpt = None,
    force: Annotated[bool, typer.Option(help="Recharger même si déjà chargé.")] = False,
) -> None:
    """Load the streets of an OSM extract (street name and road class on each report)."""
    import psycopg

    from carto.rounds.graph import prepare_graph
    from carto.routing.streets import load_streets
    from carto.runtime import database_url, upgrade

    try:
        url = database_url(_settings(data_dir), start=True)
        upgrade(url)
        with psycopg.connect(url) as conn, console.status(f"Lecture de {osm_file.name}…"):
            count = load_streets(conn, osm_file, force=force)
            graph = prepare_graph(conn, _settings(data_dir).data_dir)  # tournées: built once
    except CartoError as exc:
        _fail(exc)
    console.print(f"{count} tronçons de voirie chargés." if count else "Extrait déjà chargé.")
    console.print(f"Réseau des tournées : {graph.graph.number_of_nodes()} nœuds.")


def _load_configured_streets(settings: Settings, url: str) -> None:
    """CARTO_OSM_FILE: load the extract at start-up, once (skipped when already loaded)."""
    if settings.osm_file is None:
        return
    import psycopg

    from carto.routing.streets import load_streets

    with psycopg.connect(url) as conn, console.status("Chargement des rues (OSM)…"):
        count = load_streets(conn, settings.osm_file)
    if count:
        console.print(f"Rues : {count} tronçons chargés depuis {settings.osm_file}")


def _exit_on_sigterm() -> None:
    """Make SIGTERM unwind the stack like SIGINT, so `finally` blocks stop the cluster.

    uvicorn handles the signal during serving, then re-raises it once shut down;
    this handler is what that re-raise reaches.
    """

    def _raise(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise)


class _UvicornOptions(TypedDict):
    host: str
    port: int
    log_level: str
    proxy_headers: bool


def _uvicorn_options(settings: Settings) -> _UvicornOptions:
    """Options shared by one- and many-worker serving.

    `proxy_headers` stays off: uvicorn would otherwise trust X-Forwarded-For from
    loopback, and a client could pick the address the rate limits and the
    moderation log see.
    """
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "proxy_headers": False,
    }


def _serve(settings: Settings, url: str, workers: int = 1) -> None:
    import uvicorn

    from carto.app import create_app

    if workers > 1:
        # Workers rebuild the app from the environment (carto.asgi): hand them our choices.
        from carto.runtime import role_urls

        roles = role_urls(settings, url)
        os.environ["CARTO_DATABASE_URL"] = url
        os.environ["CARTO_APP_DATABASE_URL"] = roles.app
        os.environ["CARTO_READER_DATABASE_URL"] = roles.reader
        os.environ["CARTO_DATA_DIR"] = str(Path(settings.data_dir).resolve())
        if settings.metrics_token:  # a scrape sums every process (carto.ops.multiproc)
            from carto.ops.multiproc import prepare

            prepare(Path(settings.data_dir).resolve() / "metrics-processes")
        uvicorn.run(
            "carto.asgi:create_app_from_env", factory=True, workers=workers,
            **_uvicorn_options(settings),
        )  # fmt: skip
        return
    app = create_app(settings, db_url=url, freeze_heap=True)
    config = uvicorn.Config(app, **_uvicorn_options(settings))
    uvicorn.Server(config).run()


@app.command()
def serve(
    host: HostOpt = None,
    port: PortOpt = None,
    data_dir: DataDirOpt = None,
    workers: Annotated[int, typer.Option(min=1, help="Processus uvicorn.")] = 1,
) -> None:
    """Serve against CARTO_DATABASE_URL, or the embedded cluster when unset (started
    and stopped with the server when no one else runs it)."""
    from carto.embedded_owner import join, leave
    from carto.logging_setup import configure_logging
    from carto.runtime import database_url, embedded_cluster, require_role_urls, upgrade

    settings = _settings(data_dir, host=host, port=port)
    configure_logging(settings.log_level, as_json=settings.log_json)
    cluster = embedded_cluster(settings) if settings.uses_embedded_cluster else None
    owned = False
    try:
        _require_public_url(settings)
        require_role_urls(settings)
        if cluster is not None:
            owned = join(cluster, console.print)
        url = database_url(settings)
        upgrade(url)
        _load_configured_streets(settings, url)
    except CartoError as exc:
        leave(cluster, owned, console.print)
        _fail(exc)
    _exit_on_sigterm()
    try:
        _serve(settings, url, workers)
    finally:
        leave(cluster, owned, console.print)


def _require_public_url(settings: Settings) -> None:
    """E-mailed links come from CARTO_PUBLIC_URL: refuse to serve a non-loopback address
    without it; workers (carto.asgi) get the URL derived here through the environment."""
    from carto.hosts import public_url

    os.environ["CARTO_PUBLIC_URL"] = public_url(settings)
    os.environ["CARTO_HOST"] = settings.host  # workers derive the allowed Host names from it


@app.command()
def demo(host: HostOpt = None, port: PortOpt = None, data_dir: DataDirOpt = None) -> None:
    """Start (or reuse) the embedded cluster, load the demo data, serve; stop all on exit."""
    from carto.demo.loader import DEMO_PASSWORD, load_demo
    from carto.embedded_owner import join, leave
    from carto.logging_setup import configure_logging
    from carto.runtime import database_url, embedded_cluster, upgrade

    settings = _settings(data_dir, host=host, port=port)
    configure_logging(settings.log_level, as_json=settings.log_json)
    cluster = embedded_cluster(settings) if settings.uses_embedded_cluster else None
    owned = False
    try:
        if cluster is not None:
            owned = join(cluster, console.print)
        url = database_url(settings)
        upgrade(url)
        summary = load_demo(url, console=console, france=True)
        _load_configured_streets(settings, url)
        from carto.demo.national import load_mairies_in_background

        load_mairies_in_background(url, console, smtp=settings.smtp_host)
    except CartoError as exc:
        leave(cluster, owned, console.print)
        _fail(exc)
    console.print(f"\n[bold]Carto — démo[/bold] sur http://{settings.host}:{settings.port}/")
    console.print(f"Base : {url.split('@')[-1]}  (carto db url pour l'adresse complète)")
    console.print(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») :")
    for line in summary.account_lines():
        console.print(f"  {line}")
    _exit_on_sigterm()
    try:
        _serve(settings, url)
    finally:
        leave(cluster, owned, console.print)


@app.command()
def worker(
    data_dir: DataDirOpt = None,
    once: Annotated[
        bool, typer.Option("--once", help="Traiter ce qui est dû puis s'arrêter.")
    ] = False,
) -> None:
    """Deliver queued notifications (e-mails, webhooks) until stopped."""
    import asyncio

    from carto.logging_setup import configure_logging
    from carto.runtime import database_url, role_urls, upgrade
    from carto.worker import run_standalone

    settings = _settings(data_dir)
    configure_logging(settings.log_level, as_json=settings.log_json)
    try:
        url = database_url(settings, start=True)
        upgrade(url)  # as the owner; the deliveries as the app role
    except CartoError as exc:
        _fail(exc)
    handled = asyncio.run(run_standalone(settings, role_urls(settings, url).app, once=once))
    if once:
        console.print(f"{handled} notification(s) traitée(s).")


@app.command("export")
def export(
    layer: Annotated[str, typer.Argument(help="Couche publique (communes, signalements...)")],
    file: Annotated[Path, typer.Argument(help="Fichier .gpkg, .geojson, .csv ou .fgb")],
    filters: Annotated[
        list[str] | None,
        typer.Option("--filtre", "-f", help="clé=valeur (comme l'API OGC : bbox, datetime...)"),
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Export a public layer to a file (format from the extension), in constant memory;
    read as the reader role, like the HTTP exports (the public views and nothing else)."""
    import asyncio

    from carto.layers.service import export_to_path
    from carto.runtime import database_url, role_urls

    params = dict(f.split("=", 1) for f in (filters or []) if "=" in f)
    try:
        settings = _settings(data_dir)
        url = role_urls(settings, database_url(settings, start=True)).reader
        counts = asyncio.run(export_to_path(url, layer, file, params))
    except CartoError as exc:
        _fail(exc)
    written = ", ".join(f"{k} ({v})" if v >= 0 else k for k, v in counts.items())
    console.print(f"{file} : {written}")


def main() -> None:  # pragma: no cover - console entry for `python -m carto`
    logging.basicConfig(level=logging.WARNING)
    try:
        app()
    except CartoError as exc:
        console.print(f"[red]Erreur :[/red] {exc.message}")
        sys.exit(2)
