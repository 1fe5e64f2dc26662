"""Small runs of the benchmark scripts, so that `make bench` keeps working.

Figures from such tiny runs mean nothing; the tests check that each script runs end
to end, compares against its baseline and writes its result file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRANCE = ROOT.parent / "shared" / "data" / "territories" / "communes-france.fgb"


def run_bench(module: str, args: list[str], results: Path) -> dict:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    env["BENCH_RESULTS_DIR"] = str(results)
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    name = args[args.index("--name") + 1]
    return json.loads((results / f"{name}.json").read_text())


@pytest.mark.slow
def test_intake_bench_runs_and_loses_nothing(tmp_path):
    data = run_bench(
        "bench.intake",
        ["--seconds", "2", "--runs", "1", "--workers", "1", "--clients", "4", "--name", "smoke"],
        tmp_path,
    )
    figures = {f["name"]: f for f in data["figures"]}
    rate = figures["reports/s, 1 worker(s)"]
    assert rate["value"] > 0 and rate["baseline"] > 0 and rate["ratio"] is not None
    assert figures["lost acknowledged, 1 worker(s)"]["value"] == 0
    assert data["machine"]["cores"] >= 1


@pytest.mark.slow
@pytest.mark.skipif(not FRANCE.exists(), reason="shared/ data not beside the repository")
def test_routing_bench_runs_and_agrees(tmp_path):
    data = run_bench(
        "bench.routing",
        ["--single", "50", "--bulk", "5000", "--runs", "1", "--cell", "0.05", "--name", "smoke"],
        tmp_path,
    )
    figures = {f["name"]: f for f in data["figures"]}
    assert figures["GiST index in plan"]["met"] is True
    assert figures["bulk uniform answers identical"]["met"] is True
    assert figures["bulk cities answers identical"]["met"] is True
    assert figures["bulk uniform (grid locator)"]["baseline"] > 0


@pytest.mark.slow
def test_crash_bench_loses_nothing(tmp_path):
    data = run_bench(
        "bench.crash",
        ["--seconds", "3", "--runs", "1", "--clients", "2", "--name", "smoke"],
        tmp_path,
    )
    figures = {f["name"]: f for f in data["figures"]}
    assert figures["acknowledged reports (all runs)"]["value"] > 0
    assert figures["acknowledged but lost"]["value"] == 0
    assert figures["e-mails queued (all runs)"]["value"] > 0
    assert figures["e-mails never delivered"]["value"] == 0


@pytest.mark.slow
def test_rounds_bench_runs_and_never_lengthens_the_tour(tmp_path):
    data = run_bench(
        "bench.rounds", ["--rounds", "4", "--baseline-rounds", "1", "--name", "smoke"], tmp_path
    )
    figures = {f["name"]: f for f in data["figures"]}
    p95 = figures["round of 30 stops, p95"]
    assert p95["baseline"] > 0 and len(p95["runs"]) == 4
    length = figures["round length (median)"]
    assert 0 < length["value"] <= length["baseline"]
    assert all(s >= 0 for s in figures["saving against nearest neighbour (median)"]["runs"])
