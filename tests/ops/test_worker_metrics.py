"""The worker's own /metrics, and one scrape summing the processes of `serve --workers 2`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from carto.embedded import free_port
from carto.ops.worker_metrics import serve_worker_metrics
from carto.scheduler import Scheduler
from carto.settings import Settings
from carto.worker import jobs
from tests.notifications.test_outbox import queue_email
from tests.ops.test_metrics import TOKEN, samples, value
from tests.scaling.test_two_processes import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_the_worker_serves_its_outbox_and_job_figures(
    committing_session: AsyncSession, outbox: AsyncEngine, settings: Settings
) -> None:
    down = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_starttls": False,
                "metrics_token": TOKEN, "worker_metrics_port": free_port()}
    )  # fmt: skip
    stop = await serve_worker_metrics(down, outbox)
    assert stop is not None
    base = f"http://127.0.0.1:{down.worker_metrics_port}/metrics"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(50):  # the server task starts with the loop's next turns
                try:
                    before = samples((await client.get(base, headers=AUTH)).text)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            await queue_email(committing_session, "metrics:worker")
            await committing_session.commit()
            outbox_jobs = [j for j in jobs(outbox, down) if j.name == "outbox"]
            await Scheduler(outbox, outbox_jobs).run_due({}, 0.0)  # SMTP down: one failure
            resp = await client.get(base, headers=AUTH)
            assert resp.status_code == 200
            after = samples(resp.text)
            for auth in ({}, {"Authorization": "Bearer faux"}):
                refused = await client.get(base, headers=auth)
                assert refused.status_code == 404 and "carto_" not in refused.text
    finally:
        await stop()
    failures = "carto_outbox_failures_total"
    labels = {"channel": "email", "permanent": "false"}
    assert value(after, failures, **labels) - value(before, failures, **labels) == 1
    runs = "carto_job_runs_total"
    assert (
        value(after, runs, job="outbox", result="work")
        - value(before, runs, job="outbox", result="work")
        == 1
    )
    assert value(after, "carto_job_duration_seconds_count", job="outbox") >= 1
    assert value(after, "carto_outbox_pending") == 1
    assert value(after, "carto_outbox_oldest_pending_seconds") >= 0


def test_a_scrape_sums_every_process_of_serve_workers(demo_db: str, tmp_path: Path) -> None:
    port = free_port()
    env = {  # the roles are not what this test is about: every URL is the owner's
        **os.environ, "CARTO_DATABASE_URL": demo_db, "CARTO_DATA_DIR": str(tmp_path),
        "CARTO_APP_DATABASE_URL": demo_db, "CARTO_READER_DATABASE_URL": demo_db,
        "CARTO_SECRET_KEY": "w" * 40, "CARTO_METRICS_TOKEN": TOKEN, "CARTO_RATE_LIMITS": "off",
        "CARTO_NOTIFICATIONS_WORKER": "false", "CARTO_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "carto", "serve", "--workers", "2", "--host", "127.0.0.1",
         "--port", str(port)], cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, base, timeout=180)  # two processes start on a loaded machine
        preview = f"{base}/api/v1/routing/preview"
        params = {"lon": 4.8357, "lat": 45.764, "service_code": "proprete"}
        for _ in range(12):  # a new connection each: the kernel spreads them
            assert httpx.get(preview, params=params).status_code == 200
        time.sleep(2.5)  # > two snapshot periods
        scrapes = [samples(httpx.get(f"{base}/metrics", headers=AUTH).text) for _ in range(6)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for found in scrapes:
        assert value(found, "carto_metrics_processes") == 2
        answered = sum(
            v for (n, labels), v in found.items()
            if n == "carto_http_request_duration_seconds_count"
            and dict(labels)["route"].endswith("/routing/preview")
        )  # fmt: skip
        assert answered == 12
        decided = sum(v for (n, _), v in found.items() if n == "carto_routing_decisions_total")
        assert decided == 12
