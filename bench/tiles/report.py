"""The tile benchmark's figures, per table state, with every round's value and the goals.

Goals (issue 23): dense (MEL) and sparse (France) z14 tiles ≥ 3× tipg in both states,
≥ 4× tipg in the vacuumed state. Each figure records its rounds and tipg's in the same
rounds (alternating), so bench/results_table.py shows the spread of the ratio and
calls a goal met only when every round meets it.
"""

from __future__ import annotations

from typing import Any

from bench.common import Figure, Result

VACUUMED = "vacuumed"
PRODUCTION = "production-like"
GOALS = {VACUUMED: 4.0, PRODUCTION: 3.0}
CONDITIONS = {
    VACUUMED: "tables seeded then VACUUM (ANALYZE)",
    PRODUCTION: "1 % of points written through the trigger since the vacuum, autovacuum off",
}


def conditions(result: Result, state: str) -> str:
    """The state's description and the share of tiles.heat_point's pages all-visible."""
    found = result.params.get("states", {}).get(state)
    if found is None:
        return CONDITIONS[state]
    share = found["heat_point"]["all_visible_share"]
    return f"{CONDITIONS[state]}; {share:.0%} of heat_point pages all-visible"


def ratio_figure(
    name: str, carto: dict[str, Any], base: dict[str, Any], base_name: str, where: str,
    goal: float | None,
) -> Figure:  # fmt: skip
    """Carto's median round against the baseline's, the rounds paired for the spread."""
    runs, base_runs = carto["rounds_rps"], base["rounds_rps"]
    met = None
    if goal is not None:
        met = all(v >= goal * b for v, b in zip(runs, base_runs, strict=True))
    return Figure(
        name, carto["rps"], "tiles/s", base_name, base["rps"],
        f"≥ {goal:g}× tipg" if goal is not None else None, met,
        runs=runs, baseline_runs=base_runs, conditions=where,
    )  # fmt: skip


def report_state(result: Result, runs: dict[str, Any], state: str) -> None:
    tipg, carto, asmvt = runs["tipg"], runs["carto"], runs["carto_asmvt"]
    where = conditions(result, state)
    for area in ("z14_mel", "z14_france"):
        result.add(ratio_figure(f"{area} tiles/s cold (8 connections, cache off), {state}",
                                carto[area], tipg[area], "tipg", where, GOALS[state]))  # fmt: skip
        name = f"{area} tiles/s cold, stored points vs ST_AsMVT, {state}"
        asmvt_name = "ST_AsMVT from the view"
        result.add(ratio_figure(name, carto[area], asmvt[area], asmvt_name, where, None))
        name = f"{area} tiles/s cold, lean tile path vs FastAPI route, {state}"
        route = runs["carto_route"][area]
        result.add(ratio_figure(name, carto[area], route, "the FastAPI route", where, None))
    p95 = carto["z8"]["rounds_p95"]
    result.add(
        Figure(f"z8 tile p95, {state}", carto["z8"]["p95"], "ms", "tipg", tipg["z8"]["p95"],
               "≤ 50 ms", max(p95) <= 50, runs=p95, baseline_runs=tipg["z8"]["rounds_p95"],
               conditions=where)
    )  # fmt: skip
    heat_p95 = max(r["p95"] for r in runs["heat"].values())
    name = f"heatmap p95, worst zoom z0-z14, {state}"
    result.add(Figure(name, heat_p95, "ms", goal="≤ 20 ms", met=heat_p95 <= 20,
                      conditions=where))  # fmt: skip


def report(result: Result, runs: dict[str, dict[str, Any]]) -> None:
    """Every figure, both states; the warm cache and the heat cell cost from the vacuumed one."""
    for state in (VACUUMED, PRODUCTION):
        report_state(result, runs[state], state)
    vac = runs[VACUUMED]
    tipg, cached = vac["tipg"], vac["cached"]
    for area in ("z14_mel", "z14_france"):
        result.add(
            Figure(f"{area} tiles/s warm (8 connections, cache on)", cached[area]["rps"],
                   "tiles/s", "tipg", tipg[area]["rps"], conditions=conditions(result, VACUUMED))
        )  # fmt: skip
    per_cell = vac["heat"]["z10"]["p50"] * 1000 / (32 + 8) ** 2
    result.add(Figure("heatmap time per heat cell (p50 through HTTP, z10)", per_cell,
                      "µs/cell", goal="≤ 2 µs", met=per_cell <= 2))  # fmt: skip
    p50 = cached["z14_mel_p50"]["p50"]
    result.add(Figure("cached tile p50 through the app", p50, "ms", goal="≤ 2 ms", met=p50 <= 2))
    report_indexes(result)
    report_layouts(result)
    result.params["runs"] = runs
    errors = sum(
        int(r["errors"]) for per in runs.values() for group in per.values() for r in group.values()
    )
    if errors:
        result.notes.append(f"{errors} non-2xx or socket errors during the runs")
    head = f"{'carto cold':>12}{'ST_AsMVT':>12}{'route':>10}{'tipg':>10}{'ratio':>8}"
    print(f"  {'scenario':<34}{head}")
    for state in (VACUUMED, PRODUCTION):
        r = runs[state]
        for key in ("z14_mel", "z14_france"):
            c, a, t = r["carto"][key]["rps"], r["carto_asmvt"][key]["rps"], r["tipg"][key]["rps"]
            f = r["carto_route"][key]["rps"]
            print(f"  {key + ' ' + state:<34}{c:>12.0f}{a:>12.0f}{f:>10.0f}{t:>10.0f}{c / t:>8.2f}")


def report_indexes(result: Result) -> None:
    """Stored column vs expression index, and PostGIS µs per point on dense tiles."""
    found = result.params["index_compare"]
    stored, expr = "stored geom_3857 column", "expression index ST_Transform(geom, 3857)"
    for area in ("z14_mel", "z14_france"):
        result.add(
            Figure(f"{area} tile SQL, stored geom_3857 column", found[area][stored],
                   "ms/tile", "expression index", found[area][expr])
        )  # fmt: skip
    dense = found["z14_mel"][stored] * 1000 / max(found["z14_mel_points_per_tile"], 1)
    result.add(Figure("PostGIS cost per point of a dense z14 tile (scan + ST_AsMVT)", dense,
                      "µs/point"))  # fmt: skip


def report_layouts(result: Result) -> None:
    """The stored-point tile SQL on dense tiles per state, against the vacuumed state: the
    backend's CPU per tile (bench/tiles/layouts.py compares heap layouts the same way)."""
    from bench.tiles.layouts import cost_figure

    found = result.params["tile_sql"]
    for option, cost in found.items():
        if option != VACUUMED:
            name = f"z14_mel stored tile SQL, {option}"
            result.add(cost_figure(name, cost, VACUUMED, found[VACUUMED], option))
