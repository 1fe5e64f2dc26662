"""Open311 intake with a scoped API key: routed once (the scope check's decision is
stored) vs routed twice (the behaviour before: scope check, then intake again).

Same run, same server process, same database: the "twice" rounds patch the intake to
ignore the decision it is given, which is what the code did before. Sequential
requests (one client), so the figure is latency, not throughput. Prints the p50 of
each round and min/median/max over rounds. Run: `python -m bench.open311_route_once`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import threading
import time
from typing import Any

import httpx
import uvicorn

import carto.signalements.open311 as open311
from bench.common import bench_database, percentile
from carto.apiclients.schemas import ApiClientCreate
from carto.apiclients.service import create_client
from carto.app import create_app
from carto.db import make_async_engine
from carto.embedded import free_port
from carto.settings import Settings

MEL_VOIRIE = {"lat": "50.6365", "long": "3.0635", "service_code": "voirie"}


async def scoped_key(url: str) -> str:
    """A key of the MEL restricted to nothing but the MEL (every service of it)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession

    engine = make_async_engine(url)
    async with AsyncSession(engine) as session:
        mel = (await session.execute(text("SELECT id FROM authority WHERE slug = 'mel'"))).scalar()
        data = ApiClientCreate(name="bench", authority_id=int(mel))
        _, key = await create_client(session=session, data=data, admin_of=None, created_by=None)
        await session.commit()
    await engine.dispose()
    return key


def serve(url: str, data_dir: str) -> tuple[str, uvicorn.Server, threading.Thread]:
    settings = Settings(data_dir=data_dir, secret_key="b" * 40, rate_limits="off",
                        notifications_worker=False, allowed_hosts="127.0.0.1")  # fmt: skip
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db_url=url), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def one_round(base: str, key: str, n: int, rng: random.Random) -> float:
    lat = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(n):
            body = {**MEL_VOIRIE, "description": f"Banc {rng.random():.6f}", "api_key": key}
            started = time.perf_counter()
            resp = client.post("/open311/v2/requests.json", data=body)
            lat.append(time.perf_counter() - started)
            assert resp.status_code == 201, resp.text
    return percentile(lat, 0.5) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    real = open311.create_report

    async def routed_twice(**kwargs: Any) -> Any:
        return await real(**{**kwargs, "decision": None})

    with bench_database("route_once") as url:
        from carto.demo.loader import load_demo

        load_demo(url)
        key = asyncio.run(scoped_key(url))
        import tempfile

        base, server, thread = serve(url, tempfile.mkdtemp(prefix="bench-o311-"))
        rng = random.Random(7)
        try:
            one_round(base, key, 50, rng)  # warm-up, not measured
            once: list[float] = []
            twice: list[float] = []
            for _ in range(args.rounds):
                open311.create_report = routed_twice  # type: ignore[assignment]
                twice.append(one_round(base, key, args.requests, rng))
                open311.create_report = real  # type: ignore[assignment]
                once.append(one_round(base, key, args.requests, rng))
        finally:
            open311.create_report = real  # type: ignore[assignment]
            server.should_exit = True
            thread.join(timeout=30)
    for label, values in (("routed twice (before, baseline)", twice), ("routed once", once)):
        print(f"{label:32} p50 per round " + ", ".join(f"{v:.2f}" for v in values)
              + f" ms; min {min(values):.2f} median {statistics.median(values):.2f}"
              f" max {max(values):.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
