"""The intake baseline: a minimal FastAPI endpoint that inserts one row and answers 201.

Run by bench/intake.py under uvicorn with the same worker count as Carto, so the
ratio measures what routing, validation, events and the outbox cost on top of
one INSERT. The driver is chosen by BENCH_DRIVER (asyncpg or psycopg).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Form
from fastapi.responses import JSONResponse

DSN = os.environ.get("BENCH_DSN", "")
DRIVER = os.environ.get("BENCH_DRIVER", "asyncpg")
INSERT = (
    "INSERT INTO bench_report (lon, lat, service_code, description) "
    "VALUES ($1, $2, $3, $4) RETURNING id"
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if DRIVER == "asyncpg":
        import asyncpg

        app.state.pool = await asyncpg.create_pool(DSN, min_size=4, max_size=10)
    else:
        from psycopg_pool import AsyncConnectionPool

        app.state.pool = AsyncConnectionPool(DSN, min_size=4, max_size=10, open=False)
        await app.state.pool.open()
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/requests.json")
async def create(
    lat: float = Form(), long: float = Form(), service_code: str = Form(), description: str = Form()
) -> JSONResponse:
    if DRIVER == "asyncpg":
        async with app.state.pool.acquire() as conn:
            new_id = await conn.fetchval(INSERT, long, lat, service_code, description)
    else:
        async with app.state.pool.connection() as conn:
            cur = await conn.execute(INSERT.replace("$1", "%s").replace("$2", "%s")
                                     .replace("$3", "%s").replace("$4", "%s"),
                                     (long, lat, service_code, description))  # fmt: skip
            new_id = (await cur.fetchone())[0]
    return JSONResponse([{"service_request_id": str(new_id)}], status_code=201)


SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_report (
    id bigserial PRIMARY KEY, lon double precision, lat double precision,
    service_code text, description text, created_at timestamptz DEFAULT now())
"""
