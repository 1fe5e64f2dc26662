"""Rate limits: 429 with Retry-After past the limit, off switch, shared across app instances."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from carto.app import create_app
from carto.credentials import create_access_token
from carto.db import make_async_engine, make_sessionmaker
from carto.errors import InvalidInput, RateLimited
from carto.ratelimit import DEFAULT_RULES, Rule, hit, rate_limited, retry_after, rules
from carto.settings import Settings


def limited_settings(base: Settings, **update: object) -> Settings:
    """Rate limits on, a small 'comment' rule, and a fresh secret so keys are new per test."""
    values: dict[str, object] = {
        "rate_limits": "on",
        "rate_limit_rules": {"comment": "5/60"},
        "secret_key": "rl-" + secrets.token_hex(24),
    }
    values.update(update)
    return base.model_copy(update=values)


def build_app(settings: Settings, engine: AsyncEngine) -> FastAPI:
    """The real app (lifespan not run), plus two rate-limited test writes."""
    app = create_app(settings)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)

    @app.post("/_test/write", dependencies=[Depends(rate_limited("comment"))])
    async def write() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/_test/failing-write", dependencies=[Depends(rate_limited("comment"))])
    async def failing_write() -> None:
        raise InvalidInput("Refusé.")

    return app


def client_for(app: FastAPI, address: str = "127.0.0.1") -> AsyncClient:
    transport = ASGITransport(app=app, client=(address, 50000))
    return AsyncClient(transport=transport, base_url="http://test")


async def test_past_the_limit_answers_429_with_retry_after(settings, async_engine) -> None:
    app = build_app(limited_settings(settings), async_engine)
    async with client_for(app) as client:
        for _ in range(5):
            assert (await client.post("/_test/write")).status_code == 200
        resp = await client.post("/_test/write")
    assert resp.status_code == 429
    assert resp.headers["content-type"].startswith("application/json")
    assert 1 <= int(resp.headers["retry-after"]) <= 60
    body = resp.json()
    assert body["error"] == "rate_limited"
    assert "Trop de requêtes" in body["message"]


async def test_another_address_is_counted_apart(settings, async_engine) -> None:
    app = build_app(limited_settings(settings), async_engine)
    async with client_for(app, "10.1.1.1") as first, client_for(app, "10.1.1.2") as second:
        for _ in range(5):
            assert (await first.post("/_test/write")).status_code == 200
        assert (await first.post("/_test/write")).status_code == 429
        assert (await second.post("/_test/write")).status_code == 200


async def test_an_account_is_limited_across_addresses(settings, async_engine) -> None:
    cfg = limited_settings(settings)
    app = build_app(cfg, async_engine)
    token = create_access_token(4242, cfg, app.state.secret_key)
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(5):
        async with client_for(app, f"10.2.0.{i}") as client:
            assert (await client.post("/_test/write", headers=headers)).status_code == 200
    async with client_for(app, "10.2.0.99") as client:
        assert (await client.post("/_test/write", headers=headers)).status_code == 429
        # the same fresh address without the account is still welcome
        assert (await client.post("/_test/write")).status_code == 200


async def test_off_disables_every_limit(settings, async_engine) -> None:
    app = build_app(limited_settings(settings, rate_limits="off"), async_engine)
    async with client_for(app) as client:
        statuses = {(await client.post("/_test/write")).status_code for _ in range(12)}
    assert statuses == {200}


async def test_a_rolled_back_request_still_counts(settings, async_engine) -> None:
    app = build_app(limited_settings(settings), async_engine)
    async with client_for(app) as client:
        for _ in range(5):
            assert (await client.post("/_test/failing-write")).status_code == 422
        assert (await client.post("/_test/write")).status_code == 429


async def test_counters_are_shared_between_two_app_instances(settings, demo_db) -> None:
    cfg = limited_settings(settings)
    engine_a = make_async_engine(demo_db, pool_size=1, max_overflow=1)
    engine_b = make_async_engine(demo_db, pool_size=1, max_overflow=1)
    try:
        app_a, app_b = build_app(cfg, engine_a), build_app(cfg, engine_b)
        async with client_for(app_a) as a, client_for(app_b) as b:
            statuses = [
                (await (a if i % 2 else b).post("/_test/write")).status_code for i in range(6)
            ]
    finally:
        await engine_a.dispose()
        await engine_b.dispose()
    assert statuses == [200] * 5 + [429]


async def test_demo_defaults_allow_a_hundred_writes_a_minute() -> None:
    defaults = rules(Settings())
    assert set(DEFAULT_RULES) >= {
        "signalement",
        "contribution",
        "vote",
        "comment",
        "signup",
        "upload",
        "login",
    }
    for rule in defaults.values():
        assert rule.limit * 60 / rule.window_s >= 100


def test_rule_parsing() -> None:
    assert Rule.parse("120/60") == Rule(120, 60)
    assert Rule.parse("10/hour") == Rule(10, 3600)
    assert Rule.parse("30") == Rule(30, 60)
    with pytest.raises(ValueError):
        Rule.parse("0/60")
    with pytest.raises(ValueError):
        Rule.parse("ten/minute")


def test_unknown_rule_name_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        rate_limited("nimportequoi")


async def test_window_slides_and_resets(session) -> None:
    key = f"test:{secrets.token_hex(6)}"
    await hit(session=session, key=key, limit=2, window_s=1)
    await hit(session=session, key=key, limit=2, window_s=1)
    with pytest.raises(RateLimited) as refused:
        await hit(session=session, key=key, limit=2, window_s=1)
    assert refused.value.extra["retry_after"] == 1
    # two windows later the previous window no longer weighs anything
    await asyncio.sleep(2.05 - (time.time() % 1))
    await hit(session=session, key=key, limit=2, window_s=1)


async def test_hits_are_committed_outside_the_callers_transaction(session, async_engine) -> None:
    key = f"test:{secrets.token_hex(6)}"
    await hit(session=session, key=key, limit=10, window_s=60)
    await session.rollback()
    async with async_engine.connect() as conn:
        hits = (
            await conn.execute(text("SELECT hits FROM rate_counter WHERE key = :k"), {"k": key})
        ).scalar_one()
    assert hits == 1


def test_retry_after_accounts_for_the_previous_window() -> None:
    rule = Rule(10, 60)
    # current window over the limit: wait for its end
    assert retry_after(11, 0, 15.0, rule) == 45
    # 5 now, 10 in the previous window, 30 s in: 5 + 10 * (1 - t/60) <= 10 from t = 30 s
    assert retry_after(5, 10, 15.0, rule) == 15


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_never_trusts_forwarded_headers(settings, monkeypatch, workers: int) -> None:
    """X-Forwarded-For from loopback would let a client choose its rate-limit address."""
    import uvicorn

    from carto import cli

    seen: dict[str, object] = {}

    def fake_run(app: object, **options: object) -> None:
        seen.update(options)

    def fake_server_run(server: uvicorn.Server) -> None:
        seen["proxy_headers"] = server.config.proxy_headers
        seen["port"] = server.config.port

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(uvicorn.Server, "run", fake_server_run)
    # _serve exports both for its workers; monkeypatch restores them afterwards.
    monkeypatch.setenv("CARTO_DATABASE_URL", "postgresql+psycopg://unused/none")
    monkeypatch.setenv("CARTO_APP_DATABASE_URL", "postgresql+psycopg://unused/none")
    monkeypatch.setenv("CARTO_READER_DATABASE_URL", "postgresql+psycopg://unused/none")
    monkeypatch.setenv("CARTO_DATA_DIR", str(settings.data_dir))
    cli._serve(settings, "postgresql+psycopg://unused/none", workers=workers)
    assert seen["proxy_headers"] is False
    assert seen["port"] == settings.port
