"""Which database this process uses: `CARTO_DATABASE_URL`, or the embedded cluster.

Also runs the migrations, so every entry point (CLI, tests, app) shares one path.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from carto.db import libpq_url, make_sync_engine
from carto.embedded import EmbeddedCluster, role_url_for
from carto.errors import CartoError
from carto.roles import RoleUrls
from carto.settings import Settings

log = logging.getLogger("carto.runtime")


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


def role_urls(settings: Settings, owner_url: str) -> RoleUrls:
    """The app's and the reader's URLs next to `owner_url`: from the settings
    (`CARTO_APP_DATABASE_URL`, `CARTO_READER_DATABASE_URL`), else the logins of the
    embedded cluster `owner_url` points at. Otherwise (an external database without
    them) the owner's URL, with a loud warning: `carto serve` refuses that case
    before it gets here (`require_role_urls`); this fallback is for library use."""
    owner = libpq_url(owner_url)
    found: dict[str, str] = {}
    for role, configured in (
        ("app", settings.app_database_url),
        ("reader", settings.reader_database_url),
    ):
        url = libpq_url(configured) if configured else role_url_for(owner, role)
        if url is None:
            log.warning(
                "no %s role URL (CARTO_%s_DATABASE_URL): connecting as the schema owner; "
                "see the README, 'Database roles'",
                role,
                role.upper(),
            )
            url = owner
        found[role] = url
    return RoleUrls(owner=owner, app=found["app"], reader=found["reader"])


def require_role_urls(settings: Settings) -> None:
    """An external database needs both role URLs before serving: the owner's rights
    (DDL, every table) must not answer the Internet."""
    if settings.database_url and not (settings.app_database_url and settings.reader_database_url):
        raise CartoError(
            "CARTO_DATABASE_URL est défini sans CARTO_APP_DATABASE_URL et "
            "CARTO_READER_DATABASE_URL : le service ne se connecte pas avec le rôle "
            "propriétaire du schéma. Créez les rôles (README, « Database roles »)."
        )


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic's config in code. The scripts are named as a package resource
    (`carto:migrations`), not imported: the migrations import the whole model, which sits
    above this module in the layers (docs/architecture.md)."""
    cfg = Config()
    cfg.set_main_option("script_location", "carto:migrations")
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
