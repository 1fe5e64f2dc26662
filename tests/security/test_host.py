"""Finding 4 over HTTP: e-mailed links followed the Host header.

Links come from CARTO_PUBLIC_URL (or, bound to loopback, from the host and port);
a Host outside the allowed names gets 400 and queues nothing; `carto serve` on a
public address refuses to start without CARTO_PUBLIC_URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from carto.app import create_app
from carto.settings import Settings
from tests.conftest import serve_in_thread
from tests.security.test_accounts import sign_up

ROOT = Path(__file__).resolve().parents[2]


def _outbox_count(demo_db: str, email: str) -> int:
    with psycopg.connect(demo_db) as conn:
        row = conn.execute(
            "SELECT count(*) FROM notification_outbox WHERE recipient = %s", (email,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _last_mail(demo_db: str, email: str) -> str:
    with psycopg.connect(demo_db) as conn:
        row = conn.execute(
            "SELECT payload::text FROM notification_outbox WHERE recipient = %s"
            " ORDER BY id DESC LIMIT 1",
            (email,),
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_foreign_host_gets_400_and_no_mail(http: httpx.Client, demo_db: str) -> None:
    email = sign_up(http, "host")
    before = _outbox_count(demo_db, email)
    for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", ""):
        resp = http.post(
            "/api/v1/auth/password-reset", json={"email": email}, headers={"Host": host}
        )
        assert resp.status_code == 400, (host, resp.status_code, resp.text)
        assert "Host" in resp.json()["message"]
    signup = http.post(
        "/api/v1/auth/signup",
        json={"email": "x-" + email, "pseudonym": "Evil", "password": "s3cret-pass"},
        headers={"Host": "evil.example"},
    )
    assert signup.status_code == 400
    assert _outbox_count(demo_db, email) == before
    assert _outbox_count(demo_db, "x-" + email) == 0


def test_links_never_follow_the_host_header(http: httpx.Client, served: str, demo_db: str) -> None:
    """Bound to loopback without CARTO_PUBLIC_URL: links use the configured host and port,
    whichever loopback name the request gave."""
    email = sign_up(http, "lien")
    port = served.rsplit(":", 1)[1]
    resp = http.post(
        "/api/v1/auth/password-reset", json={"email": email}, headers={"Host": f"localhost:{port}"}
    )
    assert resp.status_code == 202
    mail = _last_mail(demo_db, email)
    assert "http://127.0.0.1:8000/#/mot-de-passe?token=" in mail, mail
    assert "localhost" not in mail


def test_configured_public_url_builds_every_link(
    demo_db: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("carto-host-data"),
        secret_key="host-test-secret-" + "h" * 32,
        rate_limits="off",
        notifications_worker=False,
        public_url="https://carto.example.fr/",
        allowed_hosts="carto.example.fr,alias.example.fr",
    )
    alias = {"Host": "alias.example.fr"}
    with (
        serve_in_thread(create_app(settings, db_url=demo_db)) as base,
        httpx.Client(base_url=base, timeout=30, headers=alias) as c,
    ):
        email = sign_up(c, "conf")
        assert "https://carto.example.fr/api/v1/auth/verify?token=" in _last_mail(demo_db, email)
        assert c.post("/api/v1/auth/password-reset", json={"email": email}).status_code == 202
        assert "https://carto.example.fr/#/mot-de-passe?token=" in _last_mail(demo_db, email)
        assert c.get("/api/v1/config", headers={"Host": "evil.example"}).status_code == 400


def test_serve_refuses_a_public_address_without_public_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    env.update(PYTHONPATH=str(ROOT), CARTO_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "carto", "serve", "--host", "0.0.0.0", "--port", "1",  # noqa: S104
         "--data-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "CARTO_PUBLIC_URL" in done.stderr


def test_host_check_is_cheap() -> None:
    """The check is one header scan and one set lookup: measured against the bare app."""
    from carto.hosts import AllowedHosts, host_of

    async def bare(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        return None

    checked = AllowedHosts(bare, frozenset({"carto.example.fr", "localhost"}))
    headers = [(b"user-agent", b"x" * 40), (b"accept", b"*/*"), (b"host", b"carto.example.fr")]
    scope = {"type": "http", "headers": headers}
    import asyncio

    async def run(app, n: int) -> float:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        for _ in range(n):
            await app(scope, None, None)
        return (time.perf_counter() - start) / n

    n = 20_000
    overhead = min(asyncio.run(run(checked, n)) - asyncio.run(run(bare, n)) for _ in range(3))
    print(f"host check: {overhead * 1e6:.2f} µs per request")
    assert overhead < 50e-6  # generous: ~1 µs measured; a request costs ~1 ms
    assert host_of(b"[::1]:8000") == "::1"
    assert host_of(b"Carto.Example.FR:443") == "carto.example.fr"
