"""Shared benchmark plumbing: a database to measure on, timing helpers, result files.

Every benchmark records the machine (cores, memory, CPU), the versions, each
figure next to its baseline and the ratio, and medians of several runs; results go
to bench/results/<name>.json and the table in bench/RESULTS.md is rebuilt from
all result files.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
SHARED = ROOT.parent / "shared" / "data" / "territories"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for pkg in ("sqlalchemy", "asyncpg", "psycopg", "fastapi", "uvicorn", "shapely", "geopandas"):
        with suppress(metadata.PackageNotFoundError):
            versions[pkg] = metadata.version(pkg)
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "versions": versions,
    }


@dataclass
class Figure:
    """One measured figure next to its baseline."""

    name: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    goal: str | None = None
    met: bool | None = None
    runs: list[float] = field(default_factory=list)
    # The baseline's value in the same rounds (paired with `runs`), and what held
    # during the measurement (e.g. the state of the tables): bench/results_table.py.
    baseline_runs: list[float] = field(default_factory=list)
    conditions: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.value is None:
            return None
        return self.value / self.baseline  # type: ignore[operator]


@dataclass
class Result:
    bench: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params.setdefault("load_average_before", [round(v, 2) for v in os.getloadavg()])

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        ratio = f"  ratio {figure.ratio:.2f}" if figure.ratio is not None else ""
        base = (
            f"  (baseline {figure.baseline_name}: {figure.baseline:.4g} {figure.unit})"
            if figure.baseline is not None
            else ""
        )
        goal = f"  goal {figure.goal}: {'met' if figure.met else 'NOT met'}" if figure.goal else ""
        print(f"  {figure.name}: {figure.value:.4g} {figure.unit}{base}{ratio}{goal}", flush=True)
        return figure

    def save(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.params.setdefault("load_average_after", [round(v, 2) for v in os.getloadavg()])
        payload = {
            "bench": self.bench,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "params": self.params,
            "notes": self.notes,
            "figures": [{**asdict(f), "ratio": f.ratio} for f in self.figures],
        }
        path = RESULTS / f"{self.bench}.json"
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
        write_results_table()
        return path


def write_results_table() -> Path:
    """bench/RESULTS.md from every bench/results/*.json (bench/results_table.py)."""
    from bench.results_table import render

    out = (
        RESULTS.parent / "RESULTS.md"
        if "BENCH_RESULTS_DIR" in os.environ
        else (ROOT / "bench" / "RESULTS.md")
    )
    out.write_text(render(RESULTS))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median_of(runs: int, fn: Callable[[], float]) -> tuple[float, list[float]]:
    values = [fn() for _ in range(runs)]
    return statistics.median(values), values


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    elapsed: list[float] = []
    yield lambda: elapsed[0] if elapsed else time.perf_counter() - start
    elapsed.append(time.perf_counter() - start)


@contextmanager
def bench_database(name: str = "bench", *, keep: bool = False) -> Iterator[str]:
    """A fresh migrated database: `CARTO_BENCH_DATABASE_URL`'s server, or a throwaway
    embedded cluster (fsync on: benchmarks measure the real thing). With `keep` and an
    external server, the database `carto_<name>` is reused and left there (a seed that
    takes minutes is made once), only migrated to head."""
    from carto.db import with_driver
    from carto.embedded import EmbeddedCluster
    from carto.runtime import upgrade

    external = os.environ.get("CARTO_BENCH_DATABASE_URL")
    root: Path | None = None
    cluster = None
    if external:
        server = with_driver(external, "psycopg").set(drivername="postgresql")
        server_url = server.render_as_string(hide_password=False)
    else:
        root = Path(tempfile.mkdtemp(prefix=f"carto-{name}-"))
        root.chmod(0o755)
        cluster = EmbeddedCluster(root)
        cluster.ensure_started()
        server_url = cluster.url()
    keep = keep and cluster is None
    db = f"carto_{name}" if keep else f"carto_{name}_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
        if not (keep and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            conn.execute(f'CREATE DATABASE "{db}"')
    url = (
        with_driver(server_url, "psycopg")
        .set(database=db, drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    upgrade(url)
    try:
        yield url
    finally:
        if not keep:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        if cluster is not None:
            cluster.stop()
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
