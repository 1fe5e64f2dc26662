"""bench/RESULTS.md from bench/results/*.json: each figure with its spread and conditions.

A figure measured over several rounds shows min / median / max of its rounds (and of
its ratio to the baseline, round by round, when the baseline was measured in the same
rounds). A goal is met only when every round meets it: a spread that crosses the goal
is reported as not met ("**no** (spread)"). Goals are read from their text: "≥ 3× tipg"
and "p99 ≤ 4× p50" bound the ratio, "≤ 50 ms" or "≥ 20 %" the value, "0" or "1" are
exact values; a goal in any other words keeps the verdict the bench gave.
"""

from __future__ import annotations

import json
import operator
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEADER = """# Benchmark results

Generated from `bench/results/*.json` (bench/results_table.py): `make bench` writes
routing, intake, crash, exports, tiles and rounds; `tiles_10m` (`python -m
bench.tiles.run --france 10000000 --name tiles_10m`), `tiles_layouts` (`python -m
bench.tiles.layouts`) and `scaling` (`python -m bench.scaling`) run on their own. The
tiles bench measures two table states in the same run: "vacuumed" (seeded, then
VACUUM (ANALYZE)) and "production-like" (1 % of the points then written through the
layer's trigger, autovacuum off on the written tables until the end of the
measurement). Each figure is the median of its rounds, next to a baseline measured in
the same run; "rounds" gives min / median / max over the rounds
(of the ratio to the baseline, round by round, when the goal is a ratio). A goal is met
only when every round meets it: a spread that crosses its goal is **not met**. Compare
ratios, not absolute times, across runs: this 2-core virtual machine is shared and its
speed varies; "conditions" gives the state of the tables and the load average.

Runs: {runs}.

{columns}
{rule}"""
COLUMNS = ("bench", "figure", "value", "rounds (min / median / max)", "baseline", "ratio",
           "goal", "met", "conditions")  # fmt: skip

OPS: dict[str, Callable[[float, float], bool]] = {"≥": operator.ge, "≤": operator.le}
RATIO_GOAL = re.compile(r"([≥≤])\s*([\d.]+)\s*×")
VALUE_GOAL = re.compile(r"([≥≤])\s*([\d.]+)\s*(ms|µs|s|%|tiles/s|req/s)?(\s|$)")
EXACT_GOAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")


def parse_goal(goal: str | None) -> tuple[str, Callable[[float], bool]] | None:
    """("ratio" | "value", the test a round must pass), or None when the text is free."""
    if not goal:
        return None
    if found := RATIO_GOAL.search(goal):
        op, limit = OPS[found.group(1)], float(found.group(2))
        return "ratio", lambda v: op(v, limit)
    if found := EXACT_GOAL.match(goal):
        exact = float(found.group(1))
        return "value", lambda v: v == exact
    if found := VALUE_GOAL.search(goal):
        op, limit = OPS[found.group(1)], float(found.group(2))
        return "value", lambda v: op(v, limit)
    return None


def round_values(f: dict[str, Any], on: str) -> list[float]:
    """The figure's per-round values, or its per-round ratios (`on` = "ratio")."""
    runs = [float(v) for v in f.get("runs") or []]
    if on == "value":
        return runs or [f["value"]]
    base_runs = [float(v) for v in f.get("baseline_runs") or []]
    if runs and len(base_runs) == len(runs):
        return [v / b for v, b in zip(runs, base_runs, strict=True) if b]
    if runs and f.get("baseline"):
        return [v / f["baseline"] for v in runs]
    return [f["ratio"]] if f.get("ratio") is not None else []


def verdict(f: dict[str, Any]) -> str:
    """yes, **no**, **no** (spread): met by the median but not by every round; or blank."""
    goal = parse_goal(f.get("goal"))
    if goal is None:
        return "" if f.get("met") is None else ("yes" if f["met"] else "**no**")
    on, passes = goal
    values = round_values(f, on)
    if not values:
        return "" if f.get("met") is None else ("yes" if f["met"] else "**no**")
    middle = statistics.median(values)
    if not passes(middle) or f.get("met") is False:
        return "**no**"
    return "yes" if all(passes(v) for v in values) else "**no** (spread)"


def spread(f: dict[str, Any]) -> str:
    """min / median / max over the rounds (of the ratio when the goal bounds the ratio)."""
    goal = parse_goal(f.get("goal"))
    on = goal[0] if goal else "value"
    values = round_values(f, on) if f.get("runs") else []
    if len(values) < 2:
        return "1 run" if not f.get("runs") else f"{len(values)} run"
    lo, mid, hi = min(values), statistics.median(values), max(values)
    unit = "×" if on == "ratio" else f" {f['unit']}"
    return f"{lo:.3g} / {mid:.3g} / {hi:.3g}{unit} ({len(values)} rounds)"


def conditions(f: dict[str, Any], data: dict[str, Any]) -> str:
    """The figure's own conditions (e.g. the state of the tables), then the run's load."""
    parts = [f["conditions"]] if f.get("conditions") else []
    params = data.get("params", {})
    before, after = params.get("load_average_before"), params.get("load_average_after")
    first = lambda v: v[0] if isinstance(v, list) else v  # noqa: E731
    if before is not None and after is not None:
        parts.append(f"load {first(before):.1f} → {first(after):.1f}")
    else:
        parts.append("load not recorded")
    return "; ".join(parts)


def row(bench: str, f: dict[str, Any], data: dict[str, Any]) -> str:
    base = f"{f['baseline']:.4g} ({f['baseline_name']})" if f.get("baseline") else ""
    ratio = f"{f['ratio']:.2f}" if f.get("ratio") else ""
    return (
        f"| {bench} | {f['name']} | {f['value']:.4g} {f['unit']} | {spread(f)} | {base} "
        f"| {ratio} | {f.get('goal') or ''} | {verdict(f)} | {conditions(f, data)} |"
    )


def render(results: Path) -> str:
    """The whole RESULTS.md for the result files in `results`."""
    columns, rule = "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)
    lines = HEADER.replace("{columns}", columns).replace("{rule}", rule).splitlines()
    machine_line, notes, runs = "", [], []
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        runs.append(f"{data['bench']} {str(data.get('at', '?'))[:16].replace('T', ' ')}")
        notes += [f"- {data['bench']} ({data.get('at', '')}): {n}" for n in data.get("notes", [])]
        m = data.get("machine", {})
        machine_line = (
            f"Machine: {m.get('cores')} cores, {m.get('memory_gib')} GiB, {m.get('cpu')}."
        )
        lines += [row(data["bench"], f, data) for f in data["figures"]]
    lines = [line.replace("{runs}", ", ".join(runs)) for line in lines]
    lines += ["", machine_line, ""]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    return "\n".join(lines)
