"""Served processes freeze their startup heap: a full cyclic collection otherwise walks
~380,000 long-lived objects while every request in flight waits."""

from __future__ import annotations

import gc

from carto import asgi, cli
from carto.app import create_app


async def test_a_served_app_freezes_its_startup_heap(settings, demo_db) -> None:
    quiet = settings.model_copy(update={"notifications_worker": False})
    gc.unfreeze()
    try:
        plain = create_app(quiet, db_url=demo_db)
        async with plain.router.lifespan_context(plain):
            assert gc.get_freeze_count() == 0  # tests and tools build apps unfrozen
        served = create_app(quiet, db_url=demo_db, freeze_heap=True)
        async with served.router.lifespan_context(served):
            frozen = gc.get_freeze_count()
        assert frozen > 100_000  # modules, the OGC catalog, the compiled encoder
    finally:
        gc.unfreeze()


def test_both_serving_entries_ask_for_it(settings, monkeypatch) -> None:
    import uvicorn

    served: list[bool] = []
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda s: served.append(s.config.app.state.freeze_heap)
    )
    cli._serve(settings, "postgresql+psycopg://unused/none", workers=1)
    monkeypatch.setenv("CARTO_DATABASE_URL", "postgresql+psycopg://unused/none")
    monkeypatch.setenv("CARTO_APP_DATABASE_URL", "postgresql+psycopg://unused/none")
    monkeypatch.setenv("CARTO_READER_DATABASE_URL", "postgresql+psycopg://unused/none")
    monkeypatch.setenv("CARTO_DATA_DIR", str(settings.data_dir))
    served.append(asgi.create_app_from_env().state.freeze_heap)
    assert served == [True, True]
