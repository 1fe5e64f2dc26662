"""Test harness: a real PostGIS for the whole run, one throwaway database, per-test rollback.

With `CARTO_TEST_DATABASE_URL` set, that server is used (the role needs CREATEDB);
otherwise the product's own embedded cluster is started in a temp dir and
stopped at the end. Either way the run gets a fresh database, migrated with the
product's migrations, and dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carto.app import create_app
from carto.db import get_session, make_async_engine, with_driver
from carto.embedded import EmbeddedCluster, free_port
from carto.runtime import upgrade
from carto.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "carto" / "demo" / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "territories"


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yields its base URL
    once the lifespan has started (pools open), and stops it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def make_tempdir(prefix: str) -> Path:
    """A temp dir the unprivileged server user can traverse (pytest's own are 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def test_cluster() -> Iterator[EmbeddedCluster | None]:
    """The embedded cluster of this run (None with `CARTO_TEST_DATABASE_URL`)."""
    if os.environ.get("CARTO_TEST_DATABASE_URL"):
        yield None
        return
    with started_cluster("carto-test-pg-") as cluster:
        yield cluster


@contextmanager
def started_cluster(prefix: str) -> Iterator[EmbeddedCluster]:
    """A new embedded cluster in a temporary directory, stopped and removed after use."""
    root = make_tempdir(prefix)
    cluster = EmbeddedCluster(root, fast=True)
    cluster.ensure_started()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url(test_cluster: EmbeddedCluster | None) -> str:
    """Admin URL of a PostgreSQL server with PostGIS available."""
    if test_cluster is not None:
        return test_cluster.url()
    return (
        with_driver(os.environ["CARTO_TEST_DATABASE_URL"], "psycopg")
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def db_url(server_url: str) -> Iterator[str]:
    """A fresh, migrated database for this run."""
    name = f"carto_test_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_driver(server_url, "psycopg").set(database=name, drivername="postgresql")
    url_s = url.render_as_string(hide_password=False)
    upgrade(url_s)
    try:
        yield url_s
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def demo_db(db_url: str) -> str:
    """The run's database with the demo deployment loaded (committed, shared by tests)."""
    from carto.demo.loader import load_demo

    load_demo(db_url)
    return db_url


@pytest.fixture
def sync_conn(demo_db: str) -> Iterator[psycopg.Connection]:
    """A psycopg connection whose work is rolled back after the test."""
    with psycopg.connect(demo_db) as conn:
        conn.execute("SELECT 1")  # open the transaction: import_file then nests a savepoint
        try:
            yield conn
        finally:
            conn.rollback()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("carto-data"),
        secret_key="test-secret-key-" + "x" * 32,
        rate_limits="off",
        notifications_worker=False,
        public_url="http://test",
        allowed_hosts="test,t,testserver",  # the ASGI test clients' Host names
    )


@pytest.fixture(scope="session")
async def async_engine(demo_db: str):  # type: ignore[no-untyped-def]
    engine = make_async_engine(demo_db, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(async_engine) -> AsyncIterator[AsyncSession]:  # type: ignore[no-untyped-def]
    """A session inside a transaction that is rolled back after the test; the code's own
    commits become savepoint releases."""
    async with async_engine.connect() as conn:
        trans = await conn.begin()
        maker = async_sessionmaker(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        async with maker() as sess:
            yield sess
        await trans.rollback()


@pytest.fixture
async def client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """An HTTP client on the app, every request sharing the test's rolled-back session."""
    app = create_app(settings)

    async def _session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = _session
    app.state.engine = session.bind
    app.state.sessionmaker = None
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        yield ac


async def login(client: AsyncClient, email: str, password: str = "demo") -> dict[str, str]:  # noqa: S107
    """Authorization header for a demo account."""
    resp = await client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}
