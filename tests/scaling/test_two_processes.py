"""Two app processes on two ports, one database: nothing shared lives in one process.

Rate-limit counters, the tile cache and its invalidation, bearer tokens and the
outbox workers' claims all live in PostgreSQL; these tests prove it across two
real uvicorn processes (`carto.asgi`, as `carto serve --workers N` runs them).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import morecantile
import psycopg
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine

from carto.db import make_sessionmaker
from carto.embedded import free_port
from carto.notifications import notify_email
from tests.notifications.conftest import Inbox

ROOT = Path(__file__).resolve().parents[2]
LILLE = (3.0635, 50.6365)  # Lille, MEL: voirie goes to the intercommunality
TILE = morecantile.tms.get("WebMercatorQuad").tile(*LILLE, 15)


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """One uvicorn process serving `carto.asgi` on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "uvicorn", "carto.asgi:create_app_from_env", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(proc: subprocess.Popen[bytes], base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the app process exited ({proc.returncode})"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} not healthy after {timeout} s")


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def apps(
    demo_db: str, inbox: Inbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Two app processes sharing the run's database, with their own in-app outbox worker."""
    env = {
        **os.environ,
        "CARTO_DATABASE_URL": demo_db,
        "CARTO_DATA_DIR": str(tmp_path_factory.mktemp("two-apps")),
        "CARTO_SECRET_KEY": "two-processes-" + secrets.token_hex(16),
        "CARTO_RATE_LIMIT_RULES": '{"login": "4/60"}',
        "CARTO_TILE_CACHE_MIN_MS": "0",
        "CARTO_SMTP_HOST": "127.0.0.1",
        "CARTO_SMTP_PORT": str(inbox.port),  # type: ignore[attr-defined]
        "CARTO_SMTP_STARTTLS": "false",
        "CARTO_NOTIFICATIONS_POLL_S": "0.2",
        "CARTO_LOG_LEVEL": "WARNING",
    }
    procs = [start_app(env) for _ in range(2)]
    try:
        for proc, base in procs:
            wait_healthy(proc, base)
        yield [base for _, base in procs]
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            proc.wait(timeout=30)
        with psycopg.connect(demo_db, autocommit=True) as conn:
            conn.execute("DELETE FROM rate_counter")


@pytest.fixture(autouse=True)
def fresh_counters(demo_db: str) -> None:
    """Each test starts with no sign-in counted (the limit is 4 a minute here)."""
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute("DELETE FROM rate_counter")


def test_rate_limit_counters_are_shared(apps: list[str]) -> None:
    a, b = apps
    form = {"username": "citoyen@demo.local", "password": "demo"}
    answers = [httpx.post(f"{url}/api/v1/auth/token", data=form) for url in (a, b, a, b, a)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "message" in answers[-1].json()


def test_a_token_from_one_process_is_accepted_by_the_other(apps: list[str]) -> None:
    a, b = apps
    form = {"username": "agent.voirie.mel@demo.local", "password": "demo"}
    token = httpx.post(f"{b}/api/v1/auth/token", data=form).json()["access_token"]
    me = httpx.get(f"{a}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["pseudonym"]
    forged = httpx.get(f"{a}/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
    assert forged.status_code == 401


def test_a_tile_cached_by_one_is_invalidated_by_a_write_through_the_other(
    apps: list[str], demo_db: str
) -> None:
    a, b = apps
    url = f"{a}/tiles/signalements/{TILE.z}/{TILE.x}/{TILE.y}.mvt"
    first = httpx.get(url)
    assert first.status_code in (200, 204)
    cached = httpx.get(url)
    assert cached.headers["X-Tile-Source"] == "cache" and cached.content == first.content
    body = {"lon": LILLE[0], "lat": LILLE[1], "service_code": "voirie", "description": "Trou"}
    created = httpx.post(f"{b}/api/v1/signalements", json=body)
    assert created.status_code == 201, created.text
    try:
        after = httpx.get(url)
        assert after.headers["X-Tile-Source"] != "cache"
        assert after.status_code == 200 and after.content != first.content
        assert httpx.get(url).headers["X-Tile-Source"] == "cache"  # stored again, fresh
    finally:
        with psycopg.connect(demo_db, autocommit=True) as conn:
            conn.execute("DELETE FROM signalement WHERE id = %s", (created.json()["id"],))


async def test_two_outbox_workers_never_send_a_notification_twice(
    apps: list[str], inbox: Inbox, async_engine: AsyncEngine
) -> None:
    run = secrets.token_hex(4)
    keys = [f"two-apps:{run}:{i}" for i in range(60)]
    async with make_sessionmaker(async_engine)() as session:
        for i, key in enumerate(keys):
            await notify_email(
                session=session, to=f"c{i}@exemple.test", subject="Suivi",
                text="Votre signalement avance.", event_key=key, authority_id=None,
            )  # fmt: skip
        await session.commit()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with inbox.lock:
            seen = [m["X-Carto-Delivery"] for m in inbox.messages]
        if len([k for k in seen if k in set(keys)]) >= len(keys):
            break
        time.sleep(0.2)
    time.sleep(1.0)  # a duplicate would arrive now
    with inbox.lock:
        mine = [m["X-Carto-Delivery"] for m in inbox.messages if m["X-Carto-Delivery"] in keys]
    assert sorted(mine) == sorted(keys)  # every one delivered, none twice
