"""Start and stop the servers a benchmark measures (Carto, the baseline app), on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from carto.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not ready: {url}")


def carto_env(db_url: str, **extra: str) -> dict[str, str]:
    """The served app's environment: the bench database as the owner, and its app and
    reader logins (the embedded cluster this process started knows them), since
    `carto serve` refuses an external database without the role URLs."""
    from carto.db import libpq_url
    from carto.embedded import role_url_for

    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    env.update(
        CARTO_DATABASE_URL=db_url, CARTO_RATE_LIMITS="off", CARTO_LOG_LEVEL="WARNING",
        CARTO_SECRET_KEY="bench-secret-key-" + "x" * 32, **extra,
    )  # fmt: skip
    for role in ("app", "reader"):
        url = role_url_for(libpq_url(db_url), role)
        if url is not None:
            env.setdefault(f"CARTO_{role.upper()}_DATABASE_URL", url)
    return env


def start_carto(db_url: str, port: int, workers: int = 1, **extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "carto", "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(
        cmd, env=carto_env(db_url, **extra), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the whole process group (uvicorn's workers too) and wait."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def carto_server(db_url: str, workers: int = 1, **extra: str) -> Iterator[str]:
    port = free_port()
    proc = start_carto(db_url, port, workers, **extra)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@contextmanager
def baseline_server(dsn: str, workers: int = 1, driver: str = "asyncpg") -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "BENCH_DSN": dsn, "BENCH_DRIVER": driver}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}/docs", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
