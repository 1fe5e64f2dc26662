"""Crew rounds on the Helsinki extract (tests/data/helsinki.osm.pbf, ~6,100 street nodes).

1. Time: a 30-stop round (snap, network distances, nearest neighbour + 2-opt, route
   line), as `plan_round` computes it once the graph is in memory, over many random
   stop sets from a fixed depot: min/median/p95/max, goal p95 <= 1 s. Baseline: the
   distance matrix alone computed with networkx's Dijkstra (31 sources), the obvious
   pure-Python way, measured on the same stop sets.
2. Length: the round against the nearest-neighbour order on the same network
   distances (the saving 2-opt brings), and against the nearest-neighbour order by
   straight-line distance walked on the streets (what one would do from a map).
3. The graph itself: built from the imported rows vs read back from its cache (a
   pickle), and from osmnx's GraphML (measured, not used: slower than rebuilding).

    python -m bench.rounds [--rounds 200] [--stops 30]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
from scipy.sparse.csgraph import dijkstra

from bench.common import ROOT, Figure, Result, percentile
from carto.rounds.graph import StreetGraph, build_graph
from carto.rounds.plan import Point, plan_round
from carto.rounds.tour import nearest_neighbour, tour_length
from carto.routing.streets import read_ways

HELSINKI = ROOT / "tests" / "data" / "helsinki.osm.pbf"
DEPOT = (24.9394, 60.1699)
SPEED = 15 / 3.6


def stop_sets(graph: StreetGraph, rounds: int, stops: int, seed: int) -> list[list[Point]]:
    """Random stop sets near street vertices of the depot's part of the network."""
    rng = np.random.default_rng(seed)
    depot = int(np.argmin((graph.lon - DEPOT[0]) ** 2 + (graph.lat - DEPOT[1]) ** 2))
    main = np.flatnonzero(graph.component == graph.component[depot])
    sets = []
    for _ in range(rounds):
        idx = rng.choice(main, stops, replace=False)
        off = rng.uniform(-0.0001, 0.0001, (stops, 2))
        sets.append(
            [
                Point(i + 1, graph.lon[j] + off[i, 0], graph.lat[j] + off[i, 1])
                for i, j in enumerate(idx)
            ]
        )
    return sets


def networkx_matrix(graph: StreetGraph, points: list[Point]) -> float:
    """Seconds to get the same distance matrix with networkx (snapping included)."""
    start = time.perf_counter()
    xs, ys = [DEPOT[0], *(p.lon for p in points)], [DEPOT[1], *(p.lat for p in points)]
    nodes = ox.distance.nearest_nodes(graph.graph, xs, ys)
    for n in nodes:
        lengths = nx.single_source_dijkstra_path_length(graph.graph, int(n), weight="length")
        _ = [lengths.get(int(m), np.inf) for m in nodes]
    return time.perf_counter() - start


def straight_nn_length(graph: StreetGraph, points: list[Point]) -> float:
    """Metres of the nearest-neighbour order by straight-line distance, walked on the
    streets (snapped inside the depot's part of the network, as `plan_round` does)."""
    lon = np.array([DEPOT[0], *(p.lon for p in points)])
    lat = np.array([DEPOT[1], *(p.lat for p in points)])
    depot, _ = graph.nearest([DEPOT[0]], [DEPOT[1]])
    rows, _ = graph.nearest(lon, lat, part=int(graph.component[depot[0]]))
    network = dijkstra(graph.lengths, directed=False, indices=rows)[:, rows]
    x = lon * np.cos(np.radians(DEPOT[1]))  # local equirectangular: fine over a city
    straight = np.hypot(x[:, None] - x[None, :], lat[:, None] - lat[None, :])
    return tour_length(np.minimum(network, network.T), nearest_neighbour(straight))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--stops", type=int, default=30)
    parser.add_argument("--baseline-rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--name", default="rounds")
    args = parser.parse_args()
    result = Result(args.name, params=vars(args))
    load = os.getloadavg()
    print(f"rounds on {HELSINKI.name}: {args.rounds} rounds of {args.stops} stops")

    rows = [(r[0], r[1], r[3], r[6], r[5]) for r in read_ways(HELSINKI)]
    builds, pickles, graphmls = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.graphml"
        for _ in range(3):
            t = time.perf_counter()
            built = build_graph(rows)
            builds.append(time.perf_counter() - t)
            blob = pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL)
            t = time.perf_counter()
            graph = StreetGraph.of("bench", pickle.loads(blob))  # noqa: S301 - just written
            pickles.append(time.perf_counter() - t)
            ox.io.save_graphml(built, path)
            t = time.perf_counter()
            StreetGraph.of("bench", ox.io.load_graphml(path))
            graphmls.append(time.perf_counter() - t)
    result.notes.append(
        f"graph: {graph.graph.number_of_nodes()} nodes, {graph.graph.number_of_edges()} directed "
        f"edges; load average at start {load[0]:.2f} (2 cores shared with other work)"
    )
    build = statistics.median(builds)
    result.add(Figure("graph read from its cache (pickle, median of 3)", statistics.median(pickles),
                      "s", "built from the imported rows", build, runs=pickles))  # fmt: skip
    result.add(Figure("graph read from osmnx GraphML (median of 3)", statistics.median(graphmls),
                      "s", "built from the imported rows", build, runs=graphmls))  # fmt: skip

    sets = stop_sets(graph, args.rounds, args.stops, args.seed)
    plan_round(graph, Point(0, *DEPOT), sets[0], speed_mps=SPEED, stop_s=600)  # warm-up
    times, savings, rounds_km, nn_km = [], [], [], []
    for points in sets:
        t = time.perf_counter()
        plan = plan_round(graph, Point(0, *DEPOT), points, speed_mps=SPEED, stop_s=600)
        times.append(time.perf_counter() - t)
        assert len(plan.stops) == args.stops and not plan.set_apart
        rounds_km.append(plan.distance_m / 1000)
        nn_km.append(plan.baseline_m / 1000)
        savings.append(1 - plan.distance_m / plan.baseline_m)
    nx_times = [networkx_matrix(graph, points) for points in sets[: args.baseline_rounds]]
    p95 = percentile(times, 0.95)
    result.add(Figure(f"round of {args.stops} stops, p95", p95 * 1000, "ms",
                      f"distance matrix alone with networkx Dijkstra, p95 of {len(nx_times)}",
                      percentile(nx_times, 0.95) * 1000, goal="≤ 1000 ms", met=p95 <= 1.0,
                      runs=[t * 1000 for t in times]))  # fmt: skip
    result.notes.append(
        f"round time over {len(times)} rounds: min {min(times) * 1000:.1f} ms, median "
        f"{statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max "
        f"{max(times) * 1000:.1f} ms"
    )
    result.add(Figure("round length (median)", statistics.median(rounds_km), "km",
                      "nearest-neighbour order, same stops and network distances",
                      statistics.median(nn_km)))  # fmt: skip
    pct = [s * 100 for s in savings]
    result.add(Figure("saving against nearest neighbour (median)", statistics.median(pct), "%",
                      runs=pct))  # fmt: skip
    result.notes.append(
        f"saving against nearest neighbour: min {min(savings) * 100:.1f} %, median "
        f"{statistics.median(savings) * 100:.1f} %, max {max(savings) * 100:.1f} %; never "
        f"longer: {all(s >= 0 for s in savings)}"
    )
    straight = [straight_nn_length(graph, p) / 1000 for p in sets[: args.baseline_rounds]]
    ours = rounds_km[: args.baseline_rounds]
    result.add(Figure(f"round length (median of {len(ours)})", statistics.median(ours), "km",
                      "nearest neighbour by straight line, walked on the streets",
                      statistics.median(straight)))  # fmt: skip
    print(f"\nsaved {result.save()}")


if __name__ == "__main__":
    main()
