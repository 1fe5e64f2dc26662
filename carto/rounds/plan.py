"""A round on the street graph: snap the points, network distances, order, route line.

No database here: the graph and the points come in, the plan goes out. Points too
far from any street, or on a part of the network the depot cannot reach, are set
apart with the reason; with a time budget, the stops that do not fit are set apart
too. None is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra

from carto.errors import InvalidInput
from carto.rounds.graph import StreetGraph
from carto.rounds.tour import solve, tour_length, two_opt

MAX_SNAP_M = 150.0  # farther from any street vertex than this: not reachable on foot from it


@dataclass(frozen=True)
class Point:
    """A stop to visit (a ticket id) or the start (id 0), lon/lat in EPSG:4326."""

    id: int
    lon: float
    lat: float


@dataclass(frozen=True)
class PlannedStop:
    id: int
    rank: int  # 1-based position in the round
    leg_m: float  # from the previous stop (or the start)
    cumulative_m: float
    eta_s: float  # estimated time from the start, on arrival
    snap_m: float  # from the ticket to the street vertex the route reaches


@dataclass(frozen=True)
class SetApart:
    id: int
    reason: str  # "no_street" | "unreachable" | "over_budget"
    message: str  # French, shown to the agent


@dataclass
class RoundPlan:
    stops: list[PlannedStop]
    set_apart: list[SetApart]
    coordinates: list[tuple[float, float]]  # the route, lon/lat, along graph edges
    node_path: list[int]  # OSM node ids of the route, start to start
    distance_m: float
    baseline_m: float  # the nearest-neighbour order of the same stops
    duration_s: float
    start_snap_m: float
    legs: list[float] = field(default_factory=list)


def plan_round(
    graph: StreetGraph,
    start: Point,
    points: Sequence[Point],
    *,
    speed_mps: float,
    stop_s: float,
    budget_s: float | None = None,
    max_snap_m: float = MAX_SNAP_M,
) -> RoundPlan:
    """Order `points` into a closed round from `start` along the streets."""
    xs = [start.lon, *(p.lon for p in points)]
    ys = [start.lat, *(p.lat for p in points)]
    rows, snaps = graph.nearest(xs, ys)
    if snaps[0] > max_snap_m:
        raise InvalidInput(
            f"Le point de départ est à plus de {max_snap_m:.0f} m de toute rue chargée."
        )
    # Stops snap to the part of the network the start is on: a footway island next to
    # a stop must not hide the street 20 m further.
    main = int(graph.component[rows[0]])
    main_rows, main_snaps = (
        graph.nearest(xs[1:], ys[1:], part=main) if points else (rows[:0], snaps[:0])
    )
    apart: list[SetApart] = []
    keep: list[int] = [0]
    for i, p in enumerate(points, start=1):
        if main_snaps[i - 1] <= max_snap_m:
            rows[i], snaps[i] = main_rows[i - 1], main_snaps[i - 1]
            keep.append(i)
        elif snaps[i] <= max_snap_m:
            apart.append(
                SetApart(p.id, "unreachable", "aucun chemin par les rues depuis le point de départ")
            )
        else:
            apart.append(SetApart(p.id, "no_street", f"aucune rue à moins de {max_snap_m:.0f} m"))
    dist_keep, pred = dijkstra(
        graph.lengths, directed=False, indices=rows[keep], return_predecessors=True
    )
    sub = dist_keep[:, rows[keep]]
    sub = np.minimum(sub, sub.T)  # symmetric by construction; float noise aside
    order, baseline = solve(sub)
    if budget_s is not None:
        trimmed, late = _within_budget(sub, order, budget_s, speed_mps, stop_s)
        for j in late:
            apart.append(SetApart(points[keep[j] - 1].id, "over_budget", _late(budget_s)))
        if late:
            order, baseline = _best_of(sub, trimmed)
    return _assemble(
        graph, points, keep, rows, sub, order, baseline, pred, snaps, speed_mps, stop_s, apart
    )


def _late(budget_s: float) -> str:
    return f"ne tient pas dans le temps disponible ({budget_s / 60:.0f} min)"


def _within_budget(
    dist: np.ndarray, order: list[int], budget_s: float, speed: float, stop_s: float
) -> tuple[list[int], list[int]]:
    """The longest prefix of the round that still gets the crew back within the budget."""
    t = 0.0
    kept = [0]
    for j in order[1:]:
        arrive = t + dist[kept[-1], j] / speed + stop_s
        if arrive + dist[j, 0] / speed > budget_s:
            return kept, [x for x in order if x not in kept]
        kept.append(j)
        t = arrive
    return kept, []


def _best_of(dist: np.ndarray, trimmed: list[int]) -> tuple[list[int], list[int]]:
    """After trimming, (the round, its nearest-neighbour baseline) over the stops kept: the
    shorter of the trimmed order improved and a fresh solve (both fit the budget: fewer
    metres over the same stops take less time)."""
    kept = sorted(trimmed)  # the depot (0) stays first
    sub = dist[np.ix_(kept, kept)]
    fresh, baseline = solve(sub)
    improved = two_opt(sub, [kept.index(j) for j in trimmed])
    best = fresh if tour_length(sub, fresh) <= tour_length(sub, improved) else improved
    return [kept[j] for j in best], [kept[j] for j in baseline]


def _path(pred_row: np.ndarray, src: int, dst: int) -> list[int]:
    """Matrix rows from src to dst along Dijkstra's predecessor tree."""
    path = [dst]
    while path[-1] != src:
        path.append(int(pred_row[path[-1]]))
    path.reverse()
    return path


def _assemble(  # noqa: PLR0913 - the pieces of one computation, kept together
    graph: StreetGraph,
    points: Sequence[Point],
    keep: list[int],
    rows: np.ndarray,
    dist: np.ndarray,
    order: list[int],
    baseline: list[int],
    pred: np.ndarray,  # Dijkstra's predecessors, one row per position in `keep`
    snaps: np.ndarray,
    speed: float,
    stop_s: float,
    apart: list[SetApart],
) -> RoundPlan:
    stops: list[PlannedStop] = []
    route: list[int] = [int(rows[0])]
    legs: list[float] = []
    total = eta = 0.0
    closed = [*order, 0]
    for rank, (a, b) in enumerate(zip(closed[:-1], closed[1:], strict=True), start=1):
        src, dst = keep[a], keep[b]
        route.extend(_path(pred[a], int(rows[src]), int(rows[dst]))[1:])
        leg = float(dist[a, b])
        legs.append(leg)
        total += leg
        eta += leg / speed
        if b != 0:
            stops.append(PlannedStop(points[dst - 1].id, rank, leg, total, eta, float(snaps[dst])))
            eta += stop_s
    coords = [(float(graph.lon[r]), float(graph.lat[r])) for r in route]
    return RoundPlan(
        stops=stops,
        set_apart=apart,
        coordinates=coords,
        node_path=[int(graph.node_ids[r]) for r in route],
        distance_m=total,
        baseline_m=tour_length(dist, baseline),
        duration_s=eta,
        start_snap_m=float(snaps[0]),
        legs=legs,
    )
