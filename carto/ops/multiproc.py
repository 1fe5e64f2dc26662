"""Metrics summed over the processes of `carto serve --workers N`.

Prometheus scrapes one address; uvicorn hands the scrape to any of its processes.
Counters and histograms of `carto.metrics` use prometheus_client's multiprocess mode
(one mmap file per process in PROMETHEUS_MULTIPROC_DIR, set by the CLI before the
processes start). The per-request figures (`http_stats`) are plain counts kept off the
request path: each process writes a snapshot of them every SNAPSHOT_EVERY_S seconds
beside those files, and the scraped process sums the others' snapshots with its own
live counts. A figure of another process is thus at most that old; a process that
exited keeps its counts in the sum (counters never go back).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from carto.ops.http_stats import HttpStats

ENV = "PROMETHEUS_MULTIPROC_DIR"
SNAPSHOT_EVERY_S = 1.0
PREFIX = "http-"


def enabled() -> bool:
    """Whether this process was started in multiprocess mode."""
    return bool(os.environ.get(ENV))


def prepare(directory: Path) -> None:
    """Before the processes start: an empty directory, named in their environment."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    os.environ[ENV] = str(directory)


def _snapshot_path(pid: int) -> Path:
    return Path(os.environ[ENV]) / f"{PREFIX}{pid}.json"


def write_snapshot(stats: HttpStats) -> None:
    """This process's request counts, replaced atomically (a reader never sees half)."""
    series = [[*key, row[:]] for key, row in list(stats.series.items())]
    tiles = {k.decode("latin-1"): v for k, v in list(stats.tiles.items())}
    path = _snapshot_path(os.getpid())
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"series": series, "tiles": tiles}))
    tmp.replace(path)


def start_snapshots(stats: HttpStats) -> threading.Thread:
    """A daemon thread writing this process's snapshot every SNAPSHOT_EVERY_S seconds."""

    def loop() -> None:
        while True:
            write_snapshot(stats)
            threading.Event().wait(SNAPSHOT_EVERY_S)

    thread = threading.Thread(target=loop, name="carto-metrics-snapshot", daemon=True)
    thread.start()
    return thread


class SummedHttpStats(Collector):
    """This process's live request figures plus every other process's last snapshot."""

    def __init__(self, own: HttpStats | None) -> None:
        self.own = own

    def collect(self) -> Iterator[Metric]:
        total = HttpStats()
        processes = 0
        sources: list[HttpStats] = []
        for path in Path(os.environ[ENV]).glob(f"{PREFIX}*.json"):
            if self.own is not None and path == _snapshot_path(os.getpid()):
                continue
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # being replaced: the next scrape reads it
            other = HttpStats()
            other.series = {(m, r, int(s)): row for m, r, s, row in data["series"]}
            other.tiles = {k.encode("latin-1"): v for k, v in data["tiles"].items()}
            sources.append(other)
        if self.own is not None:
            sources.append(self.own)
        for source in sources:
            processes += 1
            for key, row in list(source.series.items()):
                into = total.series.setdefault(key, [0.0] * len(row))
                for i, v in enumerate(row):
                    into[i] += v
            for name, count in list(source.tiles.items()):
                total.tiles[name] = total.tiles.get(name, 0) + count
        yield from total.collect()
        yield GaugeMetricFamily(
            "carto_metrics_processes",
            "Server processes whose figures this scrape sums (exited ones included).",
            processes,
        )


def registry(own: HttpStats | None) -> CollectorRegistry:
    """A registry summing every process's figures, for one scrape."""
    found = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(found)
    found.register(SummedHttpStats(own))
    return found
