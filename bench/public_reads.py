"""Anonymous reads of tickets, before and after they moved to the reader role.

What is measured: the public page of a ticket, `nearby`, the Open311 list, item and
service list, each asked over HTTP to a served `carto serve` (one worker), one request
at a time. Baseline: the code before the change (git revision `BASE`, exported to a
temporary directory) serving its own copy of the demo, migrated and loaded by that
code, on the same embedded cluster; both servers are measured in alternating rounds
in the same run. Run: `python -m bench.public_reads [BASE]`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench.servers import ROOT, stop, wait_ready
from carto.embedded import EmbeddedCluster, free_port

BASE = sys.argv[1] if len(sys.argv) > 1 else "45f0920"
ROUNDS, PER_ROUND = 3, 60
PREPARE = (
    "import sys; from carto.runtime import upgrade; from carto.demo.loader import load_demo; "
    "upgrade(sys.argv[1]); load_demo(sys.argv[1])"
)


def _db(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def served(code: Path, cluster: EmbeddedCluster, name: str) -> Iterator[tuple[str, str]]:
    """`carto serve` from `code` on database `name`, migrated and loaded by that code."""
    owner = _db(cluster.url(), name)
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    env.update(
        PYTHONPATH=str(code), CARTO_DATABASE_URL=owner, CARTO_RATE_LIMITS="off",
        CARTO_APP_DATABASE_URL=_db(cluster.role_url("app"), name), CARTO_LOG_LEVEL="WARNING",
        CARTO_READER_DATABASE_URL=_db(cluster.role_url("reader"), name),
        CARTO_SECRET_KEY="bench-secret-key-" + "x" * 32, CARTO_NOTIFICATIONS_WORKER="false",
    )  # fmt: skip
    subprocess.run([sys.executable, "-c", PREPARE, owner], env=env, cwd=code, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "carto", "serve", "--port", str(port)], env=env, cwd=code,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}", owner
    finally:
        stop(proc)


def paths(owner: str) -> dict[str, str]:
    with psycopg.connect(owner) as conn:
        sid, code, lon, lat = conn.execute(
            "SELECT id, category_code, ST_X(geom), ST_Y(geom) FROM signalement "
            "WHERE status = 'open' ORDER BY id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    return {
        "page": f"/api/v1/signalements/{sid}",
        "nearby": f"/api/v1/signalements/nearby?lon={lon}&lat={lat}&service_code={code}&radius=200",
        "open311 list": "/open311/v2/requests.json",
        "open311 item": f"/open311/v2/requests/{sid}.json",
        "open311 services": "/open311/v2/services.json",
    }


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="carto-bench-reads-"))
    root.chmod(0o755)
    base_code = root / "base"
    base_code.mkdir()
    archive = subprocess.run(["git", "archive", BASE], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(base_code)], input=archive.stdout, check=True)
    cluster = EmbeddedCluster(root / "cluster")
    cluster.ensure_started()
    times: dict[tuple[str, str], list[float]] = {}
    try:
        with (
            served(base_code, cluster, "reads_before") as (before, before_db),
            served(ROOT, cluster, "reads_after") as (after, after_db),
        ):
            targets = {"before": (before, paths(before_db)), "after": (after, paths(after_db))}
            with httpx.Client(timeout=30) as client:
                for label, (base, urls) in targets.items():  # warm both
                    for url in urls.values():
                        assert client.get(base + url).status_code == 200, (label, url)
                for _ in range(ROUNDS):
                    for label, (base, urls) in targets.items():
                        for what, url in urls.items():
                            for _ in range(PER_ROUND):
                                started = time.perf_counter()
                                client.get(base + url).raise_for_status()
                                elapsed = (time.perf_counter() - started) * 1000
                                times.setdefault((what, label), []).append(elapsed)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{ROUNDS * PER_ROUND} requests each, one at a time; ms min / median / max")
    for what in dict.fromkeys(w for w, _ in times):
        row = []
        for label in ("before", "after"):
            t = times[(what, label)]
            row.append(f"{label} {min(t):6.2f} {statistics.median(t):6.2f} {max(t):7.2f}")
        print(f"{what:17} " + "   ".join(row))


if __name__ == "__main__":
    main()
