"""`/healthz` answers 200 only when the database is at every migration head."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient

from carto.app import create_app
from carto.db import make_async_engine, make_sessionmaker


async def test_healthz_ok_then_migrating(settings, demo_db):
    app = create_app(settings)
    engine = make_async_engine(demo_db, pool_size=1, max_overflow=0)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as ac:
            ok = await ac.get("/healthz")
            assert ok.status_code == 200 and ok.json()["status"] == "ok"
            app.state.expected_heads = frozenset({"not-yet-applied"})
            behind = await ac.get("/healthz")
            assert behind.status_code == 503 and behind.json()["status"] == "migrating"
    finally:
        await engine.dispose()


async def test_healthz_database_down(settings):
    app = create_app(settings)
    engine = make_async_engine("postgresql://nobody:x@127.0.0.1:1/none", pool_size=1)
    app.state.engine = engine
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as ac:
            resp = await ac.get("/healthz")
        assert resp.status_code == 503 and resp.json()["status"] == "unavailable"
    finally:
        await engine.dispose()
