"""Which database this process uses: `CARTO_DATABASE_URL`, or the embedded cluster.

Also runs the migrations, so every entry point (CLI, tests, app) shares one path.
Alembic, SQLAlchemy and the model are imported only when a migration is due: a database
already at the heads (the `alembic_version` rows equal the heads read from the migration
files' headers, `migration_heads`) is checked with one query (0.6 s less per command).
"""

from __future__ import annotations

import ast
import logging
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import psycopg

from carto.embedded import EmbeddedCluster, role_url_for
from carto.errors import CartoError
from carto.roles import RoleUrls
from carto.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

log = logging.getLogger("carto.runtime")


def embedded_cluster(settings: Settings) -> EmbeddedCluster:
    return EmbeddedCluster(settings.data_dir, settings.pg_bin_dir)


def database_url(settings: Settings, *, start: bool = False) -> str:
    """The libpq URL in use; with `start`, the embedded cluster is started if needed."""
    if settings.database_url:
        from carto.db_url import libpq_url

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
    from carto.db_url import libpq_url

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
    from alembic.config import Config

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
    so "heads", not "head". A database already at the heads is left as it is, without
    loading Alembic and the model.
    """
    if is_migrated(url):
        return
    from alembic import command

    from carto.db import make_sync_engine

    engine = make_sync_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            command.upgrade(alembic_config(connection=conn), "heads")
    finally:
        engine.dispose()


@cache
def migration_heads() -> frozenset[str]:
    """The revisions no other revision names as its `down_revision` or in its `depends_on`:
    the rows `alembic_version` holds once every branch is upgraded (Alembic's real heads).
    Read from the files' headers (the assignments before the first function), without
    importing them; `tests/test_migration_heads.py` holds it equal to what Alembic writes."""
    revisions: set[str] = set()
    named: set[str] = set()
    versions = resources.files("carto.migrations") / "versions"
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        found = _header_values(entry.read_text(encoding="utf-8").split("\ndef ", 1)[0])
        if "revision" not in found:
            continue
        revisions.add(str(found["revision"]))
        for key in ("down_revision", "depends_on"):
            value = found.get(key)
            named.update([value] if isinstance(value, str) else list(value or ()))
    return frozenset(revisions - named)


def _header_values(header: str) -> dict[str, Any]:
    """The literal module-level assignments (`name = ...`, `name: type = ...`) of a
    migration's header."""
    values: dict[str, Any] = {}
    for node in ast.parse(header).body:
        name: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            name, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            name, value = node.targets[0], node.value
        else:
            continue
        if isinstance(name, ast.Name):
            try:
                values[name.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return values


def is_migrated(url: str) -> bool:
    """Whether the database is at every head (no migration to run). A URL in SQLAlchemy's
    form (`postgresql+driver://`) is left to Alembic's path."""
    if not url.startswith(("postgresql://", "postgres://")):
        return False
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,):
                return False
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except psycopg.Error:
        return False  # let Alembic's path report it
    return {r[0] for r in rows} == migration_heads()
