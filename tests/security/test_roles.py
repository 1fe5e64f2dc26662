"""Finding 1, at the database: every connection of the app was the bootstrap superuser.

Each role is connected to directly and made to try what it must not do; then the
served app is checked to really connect as those roles, and the OGC `filter` attack
of the report is replayed over HTTP: whatever the filter, the reader cannot see the
reporters' e-mail addresses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from psycopg import errors

from carto.app import create_app
from carto.db import with_driver
from carto.embedded import EmbeddedCluster, role_url_for
from carto.roles import LOGINS
from carto.runtime import alembic_config, upgrade
from carto.settings import Settings
from carto.tiles.grid import mercator_tms
from tests.conftest import serve_in_thread

SERVER_FILE_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")
ATTACK = (
    "id = 1 AND int4(array_to_string(xpath('//text()', query_to_xml("
    "'select email from signalement_reporter', true, true, '')), ',')) = 1"
)


def _role_url(owner_url: str, role: str) -> str:
    url = role_url_for(owner_url, role)
    assert url is not None, f"no {role} login for {owner_url}"
    return url


@pytest.fixture(scope="module")
def reader(demo_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(_role_url(demo_db, "reader"), autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="module")
def app_role(demo_db: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(_role_url(demo_db, "app"), autocommit=True) as conn:
        yield conn


def _refused(conn: psycopg.Connection, statement: str) -> type[Exception]:
    """The error class PostgreSQL answers `statement` with (it must answer one)."""
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement)
    return type(caught.value)


def test_reader_reads_the_public_views_and_no_table(reader: psycopg.Connection) -> None:
    assert reader.execute("SELECT count(*) FROM public_layers.signalements").fetchone()[0] > 0
    assert reader.execute("SELECT count(*) FROM tiles.tile_cache").fetchone() is not None
    for table in ("app_user", "signalement_reporter", "signalement", "alembic_version"):
        assert _refused(reader, f"SELECT * FROM public.{table} LIMIT 1") is (
            errors.InsufficientPrivilege
        )


def test_reader_reads_no_file(reader: psycopg.Connection) -> None:
    for statement in (
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT pg_ls_dir('.')",
        "SELECT pg_stat_file('/etc/hostname')",
        "COPY (SELECT 1) TO '/tmp/carto-reader-copy'",
    ):
        assert _refused(reader, statement) is errors.InsufficientPrivilege, statement


def test_reader_writes_nothing(reader: psycopg.Connection) -> None:
    """Read-only transactions by default, and no right to write even when a caller
    switches them off (the role setting is a guard, the grants are the wall)."""
    assert reader.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
    insert = "INSERT INTO tiles.tile_cache VALUES ('x', 0, 0, 0, '', '', '')"
    assert _refused(reader, insert) is errors.ReadOnlySqlTransaction
    reader.execute("SET default_transaction_read_only = off")
    try:
        for statement in (
            insert,
            "DELETE FROM tiles.tile_cache",
            "DELETE FROM tiles.heat_point",
            "CREATE TABLE public.evil (id int)",
            "CREATE TABLE tiles.evil (id int)",
            "CREATE SCHEMA evil",
        ):
            assert _refused(reader, statement) is errors.InsufficientPrivilege, statement
    finally:
        reader.execute("RESET default_transaction_read_only")


def test_reader_has_a_statement_timeout(reader: psycopg.Connection) -> None:
    assert reader.execute("SHOW statement_timeout").fetchone() == ("5s",)
    reader.execute("SET statement_timeout = '200ms'")  # the same guard, quicker to prove
    try:
        assert _refused(reader, "SELECT pg_sleep(2)") is errors.QueryCanceled
    finally:
        reader.execute("RESET statement_timeout")


def test_app_role_has_dml_and_no_ddl(app_role: psycopg.Connection) -> None:
    assert app_role.execute("SELECT count(*) FROM app_user").fetchone()[0] > 0
    for statement in (
        "CREATE TABLE public.evil (id int)",
        "CREATE TABLE tiles.evil (id int)",
        "CREATE VIEW public_layers.evil AS SELECT 1",
        "CREATE SCHEMA evil",
        "CREATE FUNCTION public.evil() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ):
        assert _refused(app_role, statement) is errors.InsufficientPrivilege, statement
    for statement in (
        "ALTER TABLE app_user ADD COLUMN evil int",
        "ALTER TABLE signalement_reporter DISABLE TRIGGER ALL",
        "DROP TABLE rate_counter",
        "TRUNCATE signalement_reporter",
        "DELETE FROM alembic_version",
        "SELECT pg_read_file('/etc/hostname')",
    ):
        assert _refused(app_role, statement) is errors.InsufficientPrivilege, statement


def test_app_role_is_no_superuser_and_creates_nowhere(app_role: psycopg.Connection) -> None:
    row = app_role.execute(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False, False, False)
    for server_role in SERVER_FILE_ROLES:
        held = app_role.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (server_role,))
        assert held.fetchone() == (False,), server_role
    creatable = app_role.execute(
        "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(oid, 'CREATE')"
    ).fetchall()
    assert creatable == []
    database = app_role.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
    assert database.fetchone() == (False,)


BACKENDS_SQL = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
_before_served: set[int] = set()


@pytest.fixture(scope="module")
def served_app(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served on the demo database from its owner's URL, as `carto demo` does
    (the backends open before it starts are noted: the others are its own)."""
    with psycopg.connect(demo_db) as owner:
        _before_served.update(pid for (pid,) in owner.execute(BACKENDS_SQL))
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("carto-roles-data"),
        secret_key="roles-test-secret-" + "r" * 32,
        rate_limits="off",
        notifications_worker=False,
    )
    with serve_in_thread(create_app(settings, db_url=demo_db)) as base:
        yield base


@pytest.fixture
def reporter_email(demo_db: str) -> Iterator[str]:
    """A reporter's e-mail address, committed (the demo's reports have none)."""
    email = "fuite-des-roles@example.org"
    with psycopg.connect(demo_db) as owner:
        row = owner.execute(
            "INSERT INTO signalement_reporter (signalement_id, authority_id, email) "
            "SELECT s.id, s.authority_id, %s FROM signalement s WHERE NOT EXISTS "
            "(SELECT 1 FROM signalement_reporter r WHERE r.signalement_id = s.id) "
            "ORDER BY s.id LIMIT 1 RETURNING signalement_id",
            (email,),
        ).fetchone()
        assert row is not None
    try:
        yield email
    finally:
        with psycopg.connect(demo_db) as owner:
            owner.execute("DELETE FROM signalement_reporter WHERE signalement_id = %s", row)


def test_ogc_filter_attack_finds_no_email(
    served_app: str, demo_db: str, reporter_email: str
) -> None:
    with psycopg.connect(demo_db) as owner:
        emails = [r[0] for r in owner.execute("SELECT email FROM signalement_reporter")]
    emails = [e for e in emails if e]
    assert reporter_email in emails
    with httpx.Client(base_url=served_app, timeout=30) as client:
        resp = client.get(
            "/ogc/collections/signalements/items", params={"limit": 1, "filter": ATTACK}
        )
    assert resp.status_code < 500
    leaked = [e for e in emails if e.lower() in resp.text.lower()]
    assert leaked == [], resp.text[:300]


def test_served_pools_connect_as_the_roles(served_app: str, demo_db: str) -> None:
    """Every pool of the served app (writes, OGC, tiles, exports) connects as app or
    reader, and the anonymous ones as the reader."""
    tile = mercator_tms().tile(4.85, 45.76, 12)  # Lyon
    with httpx.Client(base_url=served_app, timeout=30) as client:
        assert client.get("/ogc/collections/signalements/items?limit=1").status_code == 200
        assert client.get(f"/tiles/signalements/12/{tile.x}/{tile.y}.mvt").status_code in (
            200,
            204,
        )
        assert client.get("/exports/communes.csv").status_code == 200
        assert client.get("/healthz").status_code == 200  # the app role's pool
    with psycopg.connect(demo_db) as owner:
        seen = owner.execute(
            "SELECT application_name, array_agg(DISTINCT usename::text ORDER BY usename::text) "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE 'carto%%' AND pid <> ALL(%s) GROUP BY application_name",
            (sorted(_before_served),),
        ).fetchall()
    by_app = dict(seen)
    app, reader = LOGINS["app"], LOGINS["reader"]
    assert by_app.get("carto-ogc") == [reader]
    assert by_app.get("carto-reader") == [reader]
    assert by_app.get("carto-tiles") == sorted([app, reader])
    assert by_app.get("carto") == [app]


TOUCHED_SQL = (
    "SELECT pid, usename::text, state_change FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name LIKE 'carto%%' "
    "AND pid <> ALL(%s) AND pid <> pg_backend_pid()"
)


def _anonymous_reads(owner: psycopg.Connection) -> list[str]:
    """The anonymous read endpoints of the write side's data, on a demo ticket."""
    sid, code, lon, lat = owner.execute(
        "SELECT id, category_code, ST_X(geom), ST_Y(geom) FROM signalement "
        "WHERE status = 'open' ORDER BY id LIMIT 1"
    ).fetchone()
    slug, published, hidden = owner.execute(
        "SELECT k.slug, max(c.id) FILTER (WHERE c.visibility = 'published' AND c.comments > 0), "
        "max(c.id) FILTER (WHERE c.visibility = 'hidden') "
        "FROM contribution c JOIN concertation k ON k.id = c.concertation_id "
        "GROUP BY k.slug ORDER BY count(*) FILTER (WHERE c.visibility = 'hidden') DESC LIMIT 1"
    ).fetchone()
    assert published and hidden, "the demo has commented and hidden contributions"
    return [
        "/api/v1/concertations",
        f"/api/v1/concertations/{slug}",
        f"/api/v1/concertations/{slug}/contributions?bbox=-180,-90,180,90",
        f"/api/v1/contributions/{published}",
        f"/api/v1/contributions/{hidden}",
        f"/api/v1/contributions/{published}/comments",
        f"/api/v1/concertations/{slug}/synthesis",
        f"/api/v1/concertations/{slug}/synthesis.html",
        f"/api/v1/signalements/{sid}",
        f"/api/v1/signalements/nearby?lon={lon}&lat={lat}&service_code={code}&radius=200",
        "/open311/v2/requests.json",
        f"/open311/v2/requests/{sid}.json",
        "/open311/v2/services.json",
        f"/open311/v2/services/{code}.json",
    ]


def test_concertation_views_publish_what_the_pages_show(reader: psycopg.Connection) -> None:
    """The reader's concertation views hold no held item, no hidden text or shape, and no
    column that names an account, an address or an IP hash."""
    held = reader.execute(
        "SELECT count(*) FROM public_layers.contribution_pages WHERE visibility = 'held'"
    ).fetchone()
    hidden = reader.execute(
        "SELECT count(*), count(title), count(body), count(geometry), count(photo_id) "
        "FROM public_layers.contribution_pages WHERE visibility = 'hidden'"
    ).fetchone()
    assert held == (0,) and hidden[0] > 0 and hidden[1:] == (0, 0, 0, 0)
    columns = {
        name
        for (name,) in reader.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "'public_layers' AND table_name IN ('concertation_pages', 'contribution_pages', "
            "'contribution_comments', 'concertation_themes', 'concertation_phases')"
        )
    }
    assert "pseudonym" in columns
    assert not columns & {"email", "ip_hash", "author_id", "user_id", "hold_reason", "flags"}


def _settled(owner: psycopg.Connection) -> dict[int, tuple[str, Any]]:
    """The app's backends (user, last state change), once a request's teardown (its
    ROLLBACK, after the answer is sent) has landed: two equal looks 50 ms apart."""
    seen: dict[int, tuple[str, Any]] = {}
    for _ in range(40):
        now = {
            pid: (user, at)
            for pid, user, at in owner.execute(TOUCHED_SQL, (sorted(_before_served),))
        }
        if now == seen:
            break
        seen = now
        time.sleep(0.05)
    return seen


def test_anonymous_reads_run_as_the_reader(served_app: str, demo_db: str) -> None:
    """Every database connection an anonymous read touches is the reader's: its session
    cannot reach the reporters, the accounts or the internal notes."""
    with psycopg.connect(demo_db, autocommit=True) as owner:
        paths = _anonymous_reads(owner)
        with httpx.Client(base_url=served_app, timeout=30) as client:
            for path in paths:
                before = _settled(owner)
                resp = client.get(path)
                assert resp.status_code == 200, (path, resp.text[:200])
                after = _settled(owner)
                touched = {
                    user for pid, (user, at) in after.items() if before.get(pid) != (user, at)
                }
                assert touched == {LOGINS["reader"]}, path


def test_upgrade_moves_an_existing_database_to_the_roles(
    server_url: str, test_cluster: EmbeddedCluster | None
) -> None:
    """A database migrated before the roles existed, with rows: `upgrade` grants them
    without touching the data, and the served app works as the roles."""
    from carto.demo.loader import load_demo

    name = "carto_roles_upgrade"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = (
        with_driver(server_url, "psycopg")
        .set(database=name, drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    try:
        upgrade(url)
        load_demo(url)
        command.downgrade(alembic_config(url), "roles@base")  # as before this revision
        with psycopg.connect(url) as owner:
            before = owner.execute("SELECT count(*) FROM signalement").fetchone()[0]
            assert not owner.execute(
                "SELECT has_table_privilege('carto_reader', 'public_layers.signalements', 'SELECT')"
            ).fetchone()[0]
        upgrade(url)
        with psycopg.connect(_role_url(url, "reader")) as reader:
            seen = reader.execute("SELECT count(*) FROM public_layers.signalements").fetchone()
            assert seen[0] > 0
        with psycopg.connect(url) as owner:
            assert owner.execute("SELECT count(*) FROM signalement").fetchone()[0] == before
        settings = Settings(secret_key="r" * 40, rate_limits="off", notifications_worker=False)
        with (
            serve_in_thread(create_app(settings, db_url=url)) as base,
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            items = client.get("/ogc/collections/signalements/items?limit=2")
            assert items.status_code == 200 and items.json()["features"]
            assert client.get("/open311/v2/requests.json").status_code == 200
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_embedded_cluster_adds_the_logins_to_an_older_cluster(
    test_cluster: EmbeddedCluster | None, demo_db: str
) -> None:
    """A cluster made before the roles (no passwords in cluster.json) gets its logins at
    the next start; cluster.json stays 0600."""
    assert test_cluster is not None, "needs the embedded test cluster"
    import json

    state = json.loads(test_cluster.state_file.read_text())
    state.pop("roles")
    test_cluster.state_file.write_text(json.dumps(state))
    assert test_cluster.ensure_started() is False  # already running: roles only
    assert set(json.loads(test_cluster.state_file.read_text())["roles"]) == {"app", "reader"}
    assert test_cluster.state_file.stat().st_mode & 0o777 == 0o600
    with psycopg.connect(test_cluster.role_url("reader")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (LOGINS["reader"],)


def test_cli_export_reads_as_the_reader(
    demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`carto export` connects with the reader's URL, as the HTTP exports do."""
    from typer.testing import CliRunner

    from carto.cli import app
    from carto.layers import service as layers_service
    from carto.settings import get_settings

    used: list[str] = []
    real = layers_service.export_to_path

    async def spy(url: str, *args: Any) -> dict[str, int]:
        used.append(url)
        return await real(url, *args)

    monkeypatch.setattr(layers_service, "export_to_path", spy)
    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    try:
        target = tmp_path / "communes.csv"
        result = CliRunner().invoke(app, ["export", "communes", str(target)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0 and len(used) == 1
    with psycopg.connect(used[0]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (LOGINS["reader"],)


async def test_reader_runs_the_geocoder_and_reads_only_public_columns(
    demo_db: str, reader: psycopg.Connection
) -> None:
    """`/api/v1/geocode` reads as the reader (h003): search and reverse work on its login,
    and the tables it was granted give it their public columns only."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from carto.db import make_async_engine
    from carto.geocoding.builtin import BuiltinGeocoder
    from carto.geocoding.provider import parse_query

    engine = make_async_engine(_role_url(demo_db, "reader"), pool_size=1, max_overflow=0)
    try:
        async with AsyncSession(engine) as session:
            found = await BuiltinGeocoder().search(parse_query("Roubaix"), session=session)
            back = await BuiltinGeocoder().reverse(3.1779, 50.6916, session=session)
    finally:
        await engine.dispose()
    assert found[0].citycode == "59512" and back[0].citycode == "59512"
    for statement in (
        "SELECT authority_id FROM public.commune LIMIT 1",
        "SELECT osm_id FROM public.street_segment LIMIT 1",
        "SELECT * FROM public.authority LIMIT 1",
    ):
        assert _refused(reader, statement) is errors.InsufficientPrivilege, statement
