"""Finding 11 (second half): after a kill -9 of `carto demo`, the restarted demo reused the
still-running cluster and did not stop it on SIGTERM.

Real processes on a temporary data dir: the cluster a killed demo left behind is
adopted and stopped on exit; one started by `carto db start` is left running.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from carto.embedded import EmbeddedCluster, free_port
from tests.conftest import make_tempdir
from tests.test_demo_process import start_demo, wait_healthy


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = make_tempdir("carto-owner-")
    yield path
    EmbeddedCluster(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    return subprocess.run(
        [sys.executable, "-m", "carto", *args], env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def _stopped(cluster: EmbeddedCluster) -> bool:
    return not cluster.is_running() and not (cluster.pgdata / "postmaster.pid").exists()


@pytest.mark.slow
def test_cluster_of_a_killed_demo_is_adopted_and_stopped(data_dir: Path) -> None:
    cluster = EmbeddedCluster(data_dir)
    port = free_port()
    first = start_demo(data_dir, port)
    wait_healthy(first, port)
    first.kill()  # SIGKILL: no finally, the cluster stays up
    first.communicate(timeout=30)
    assert cluster.is_running()

    second = start_demo(data_dir, port)
    wait_healthy(second, port)
    second.send_signal(signal.SIGTERM)
    out, _ = second.communicate(timeout=120)
    assert _stopped(cluster), out
    assert "repris" in out, out


@pytest.mark.slow
def test_cluster_started_by_db_start_is_left_running(data_dir: Path) -> None:
    cluster = EmbeddedCluster(data_dir)
    started = _cli("db", "start", "--data-dir", str(data_dir))
    assert started.returncode == 0, started.stderr
    port = free_port()
    demo = start_demo(data_dir, port)
    wait_healthy(demo, port)
    demo.send_signal(signal.SIGTERM)
    out, _ = demo.communicate(timeout=120)
    assert "déjà en marche" in out, out
    assert cluster.is_running(), out
    assert _cli("db", "stop", "--data-dir", str(data_dir)).returncode == 0
    assert _stopped(cluster)
