"""Which database this process uses: `CARTO_DATABASE_URL`, or the embedded cluster.

Also runs the migrations, so every entry point (CLI, tests, app) shares one path.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from carto import migrations
from carto.db import libpq_url, make_sync_engine
from carto.embedded import EmbeddedCluster
from carto.settings import Settings


def embedded_cluster(settings: Settings) -> EmbeddedCluster:
    return EmbeddedCluster(settings.data_dir, settings.pg_bin_dir)


def database_url(settings: Settings, *, start: bool = False) -> str:
    """The libpq URL in use; with `start`, the embedded cluster is started if needed."""
    if settings.database_url:
        return libpq_url(settings.database_url)
    cluster = embedded_cluster(settings)
    if start:
        cluster.ensure_started()
    return cluster.url()


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str) -> None:
    """Create the PostGIS extension if we may, then migrate every branch to its head.

    Feature packages keep their own Alembic branch (signalements, concertations, layers...),
    so "heads", not "head".
    """
    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            command.upgrade(alembic_config(connection=conn), "heads")
    finally:
        engine.dispose()
