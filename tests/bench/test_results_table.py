"""bench/RESULTS.md: a goal is met only when every round meets it (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.results_table import render, spread, verdict


def figure(**kw: Any) -> dict[str, Any]:
    base = {"name": "z14 tiles/s", "value": 600.0, "unit": "tiles/s", "baseline": 150.0,
            "baseline_name": "tipg", "ratio": 4.0, "goal": "≥ 3× tipg", "met": True}  # fmt: skip
    return base | kw


def test_a_ratio_spread_crossing_its_goal_is_not_met() -> None:
    # Rounds 3.3×, 4.0×, 2.8×: the median meets ≥ 3×, one round does not.
    f = figure(runs=[495.0, 600.0, 420.0], baseline_runs=[150.0, 150.0, 150.0])
    assert verdict(f) == "**no** (spread)"
    assert spread(f) == "2.8 / 3.3 / 4× (3 rounds)"


def test_every_round_above_the_goal_is_met() -> None:
    f = figure(runs=[480.0, 600.0, 700.0], baseline_runs=[150.0, 160.0, 170.0])
    assert verdict(f) == "yes"


def test_a_median_below_the_goal_is_not_met_even_if_the_bench_said_yes() -> None:
    f = figure(value=400.0, ratio=2.67, runs=[400.0, 390.0, 500.0], baseline_runs=[150.0] * 3)
    assert verdict(f) == "**no**"


def test_a_value_goal_checks_every_round() -> None:
    f = figure(name="p95", unit="ms", value=30.0, goal="≤ 50 ms", runs=[30.0, 20.0, 55.0])
    assert verdict(f) == "**no** (spread)"
    assert verdict(f | {"runs": [30.0, 20.0, 45.0]}) == "yes"


def test_exact_goals_and_free_text_goals() -> None:
    assert verdict(figure(goal="0", value=0.0, runs=[0, 0, 1])) == "**no** (spread)"
    assert verdict(figure(goal="0", value=0.0, runs=[])) == "yes"
    assert verdict(figure(goal="faster than yesterday", met=False)) == "**no**"
    assert spread(figure(runs=[])) == "1 run"


def test_render_shows_the_spread_and_conditions(tmp_path: Path) -> None:
    f = figure(runs=[495.0, 600.0, 420.0], baseline_runs=[150.0] * 3, conditions="vacuumed")
    payload = {"bench": "tiles", "at": "2026-12-07T20:00:00", "machine": {}, "notes": [],
               "params": {"load_average_before": [3.1, 2, 1], "load_average_after": [5.2, 3, 2]},
               "figures": [f]}  # fmt: skip
    (tmp_path / "tiles.json").write_text(json.dumps(payload))
    table = render(tmp_path)
    row = next(line for line in table.splitlines() if line.startswith("| tiles |"))
    assert "2.8 / 3.3 / 4× (3 rounds)" in row and "**no** (spread)" in row
    assert row.endswith("| vacuumed; load 3.1 → 5.2 |")
