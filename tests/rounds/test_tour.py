"""Ordering on the shipped Helsinki extract: every stop once, along graph edges, never
longer than the nearest-neighbour order; and the solver's own properties."""

from __future__ import annotations

import numpy as np
import osmnx as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from carto.errors import InvalidInput
from carto.rounds.graph import StreetGraph, build_graph
from carto.rounds.plan import Point, plan_round
from carto.rounds.tour import nearest_neighbour, solve, tour_length, two_opt
from carto.routing.streets import read_ways
from tests.rounds.helsinki import AT_SEA, DEPOT, HELSINKI_PBF

SPEED = 15 / 3.6


@pytest.fixture(scope="module")
def graph() -> StreetGraph:
    rows = [(r[0], r[1], r[3], r[6], r[5]) for r in read_ways(HELSINKI_PBF)]
    return StreetGraph.of("test", build_graph(rows))


def components(graph: StreetGraph) -> tuple[np.ndarray, int]:
    """Component label of each vertex, and the depot's label."""
    _, labels = connected_components(graph.lengths, directed=False)
    depot = int(np.argmin((graph.lon - DEPOT[0]) ** 2 + (graph.lat - DEPOT[1]) ** 2))
    return labels, int(labels[depot])


def main_part(graph: StreetGraph):  # type: ignore[no-untyped-def]
    """The depot's component as an osmnx graph (to check snapping against osmnx itself)."""
    labels, main = components(graph)
    return graph.graph.subgraph(graph.node_ids[labels == main].tolist())


def random_stops(graph: StreetGraph, n: int, seed: int) -> list[Point]:
    """Points 10-20 m off random street vertices the depot can reach."""
    rng = np.random.default_rng(seed)
    labels, main = components(graph)
    idx = rng.choice(np.flatnonzero(labels == main), n, replace=False)
    off = rng.uniform(0.0001, 0.0002, n)
    return [Point(i + 1, graph.lon[j] + off[i], graph.lat[j]) for i, j in enumerate(idx)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_visits_each_stop_once_along_edges_and_beats_nearest_neighbour(graph, seed):
    stops = random_stops(graph, 30, seed)
    plan = plan_round(graph, Point(0, *DEPOT), stops, speed_mps=SPEED, stop_s=600)
    assert sorted(s.id for s in plan.stops) == [p.id for p in stops]
    assert [s.rank for s in plan.stops] == list(range(1, 31))
    assert plan.set_apart == []
    # The route is a walk on the graph: each step is an edge, from the start and back.
    path = plan.node_path
    assert path[0] == path[-1]
    for u, v in zip(path[:-1], path[1:], strict=True):
        assert graph.graph.has_edge(u, v), (u, v)
    assert len(plan.coordinates) == len(path)
    # Its length is the sum of the edges walked, and never more than nearest neighbour's.
    walked = sum(graph.graph[u][v][0]["length"] for u, v in zip(path[:-1], path[1:], strict=True))
    assert walked == pytest.approx(plan.distance_m, rel=1e-3)
    assert plan.distance_m <= plan.baseline_m + 1e-6
    assert plan.distance_m < plan.baseline_m  # on 30 random stops 2-opt always finds a gain
    # The route passes by every stop's street vertex, in the announced order.
    by_id = {p.id: p for p in stops}
    ordered = [by_id[s.id] for s in plan.stops]
    snapped = ox.distance.nearest_nodes(
        main_part(graph), [p.lon for p in ordered], [p.lat for p in ordered]
    )
    at = 0
    for node in snapped:
        at = path.index(int(node), at)
    cumul = [s.cumulative_m for s in plan.stops]
    assert cumul == sorted(cumul)


def test_far_from_streets_and_budget_are_set_apart_with_reasons(graph):
    stops = [*random_stops(graph, 12, 7), Point(99, *AT_SEA)]
    full = plan_round(graph, Point(0, *DEPOT), stops, speed_mps=SPEED, stop_s=600)
    assert [(a.id, a.reason) for a in full.set_apart] == [(99, "no_street")]
    assert "aucune rue à moins de 150 m" in full.set_apart[0].message
    budget = full.duration_s / 2
    short = plan_round(graph, Point(0, *DEPOT), stops, speed_mps=SPEED, stop_s=600, budget_s=budget)
    kept = {s.id for s in short.stops}
    late = {a.id for a in short.set_apart if a.reason == "over_budget"}
    assert kept and late and kept.isdisjoint(late)
    assert kept | late | {99} == {p.id for p in stops}  # none dropped
    # Walking, stops and the way back to the depot included, the crew is back in time.
    assert short.duration_s == pytest.approx(short.distance_m / SPEED + 600 * len(kept))
    assert short.duration_s <= budget
    assert short.distance_m <= short.baseline_m + 1e-6


def test_stop_on_another_part_of_the_network_is_unreachable(graph):
    labels, main = components(graph)
    islands = np.flatnonzero(labels != main)  # the extract has footway islands
    _, gap = ox.distance.nearest_nodes(
        main_part(graph), graph.lon[islands], graph.lat[islands], return_dist=True
    )
    far = int(islands[np.argmax(gap)])  # the island vertex farthest from the main network
    assert gap.max() > 50
    island = Point(5, float(graph.lon[far]), float(graph.lat[far]))
    stops = [island, *random_stops(graph, 3, 4)]
    plan = plan_round(graph, Point(0, *DEPOT), stops, speed_mps=SPEED, stop_s=0, max_snap_m=50)
    assert [(a.id, a.reason) for a in plan.set_apart] == [(5, "unreachable")]
    assert plan.set_apart[0].message == "aucun chemin par les rues depuis le point de départ"
    assert sorted(s.id for s in plan.stops) == [1, 2, 3]


def test_nearest_vertex_agrees_with_osmnx(graph):
    rng = np.random.default_rng(5)
    lon = rng.uniform(graph.lon.min(), graph.lon.max(), 200)
    lat = rng.uniform(graph.lat.min(), graph.lat.max(), 200)
    rows, metres = graph.nearest(lon, lat)
    nodes, expected = ox.distance.nearest_nodes(graph.graph, lon, lat, return_dist=True)
    assert graph.node_ids[rows].tolist() == [int(n) for n in nodes]
    assert np.allclose(metres, expected)


def test_start_far_from_streets_is_refused(graph):
    with pytest.raises(InvalidInput, match="point de départ"):
        plan_round(graph, Point(0, *AT_SEA), random_stops(graph, 3, 1), speed_mps=SPEED, stop_s=0)


matrices = st.integers(min_value=2, max_value=14).flatmap(
    lambda n: st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 1000)), min_size=n, max_size=n)
)


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_two_opt_is_a_permutation_never_longer_than_nearest_neighbour(points):
    xy = np.array(points)
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    tour, baseline = solve(dist)
    assert baseline == nearest_neighbour(dist)
    assert tour[0] == 0 and sorted(tour) == list(range(len(points)))
    assert tour_length(dist, tour) <= tour_length(dist, baseline) + 1e-6
    assert two_opt(dist, tour) == tour  # a 2-opt local optimum
