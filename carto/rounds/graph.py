"""The street graph of the loaded OSM extract, for crew rounds.

`carto import streets` stores every highway way with its node ids; ways meet where
they share a node. Those rows become osmnx's usual graph (a networkx MultiDiGraph in
EPSG:4326, both directions of every way, great-circle `length`s by osmnx), cached
under the data dir, one file per import: a new import has a new key, so the next
round rebuilds the graph and the stale file is removed. The file is a pickle, not
osmnx's GraphML: on the Helsinki extract GraphML reads back in ~1.0 s, five times
slower than rebuilding from the rows (~0.2 s), a pickle in ~0.03 s (bench/rounds.py).
It is written and read only by Carto, in the data dir that also holds the secret key.
Each process also keeps the current graph in memory, with a SciPy sparse matrix of
edge lengths for many-source shortest paths in C (networkx's Dijkstra takes longer for
the distance matrix alone than the whole round: bench/rounds.py) and a ball tree of
the vertices for snapping.

The graph is undirected for distances: rounds are planned for crews on foot or in
service vehicles, and one-way restrictions are not imported yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import psycopg
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import BallTree
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Conflict

log = logging.getLogger(__name__)

CACHE_DIR = "street_graph"
EARTH_RADIUS_M = 6_371_009  # osmnx's, for the same metres as its edge lengths
CURRENT_IMPORT = "SELECT id, sha256 FROM street_import ORDER BY id DESC LIMIT 1"
SEGMENTS = (
    "SELECT osm_id, name, highway, node_ids, ST_AsBinary(geom) AS wkb FROM street_segment"
    " WHERE node_ids IS NOT NULL ORDER BY id"
)
# (way id, name, highway, node ids, WKB LineString with one vertex per node id)
SegmentRow = tuple[int, str | None, str, Sequence[int], bytes]


class StreetsMissing(Conflict):
    """No extract is loaded, or it was loaded before node ids were kept."""

    code = "streets_missing"


def graph_key(import_id: int, sha256: str) -> str:
    """One key per import: a re-import of the same file gets a new id, hence a new graph."""
    return f"{import_id}-{sha256[:16]}"


def build_graph(rows: Iterable[SegmentRow]) -> nx.MultiDiGraph:
    """osmnx's graph of the street segments: nodes are OSM nodes (x=lon, y=lat), each way
    step an edge in both directions carrying the way's id, name and highway."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for way_id, name, highway, node_ids, wkb in rows:
        coords = shapely.get_coordinates(shapely.from_wkb(wkb))
        if len(coords) != len(node_ids):
            continue  # a way whose vertices do not match its nodes cannot be joined safely
        for node, (x, y) in zip(node_ids, coords, strict=True):
            graph.add_node(int(node), x=float(x), y=float(y))
        attrs: dict[str, Any] = {"osmid": int(way_id), "highway": highway}
        if name:
            attrs["name"] = name
        for u, v in zip(node_ids[:-1], node_ids[1:], strict=True):
            if u != v:
                graph.add_edge(int(u), int(v), **attrs)
                graph.add_edge(int(v), int(u), **attrs)
    if graph.number_of_edges():
        ox.distance.add_edge_lengths(graph)
    return graph


@dataclass(frozen=True)
class StreetGraph:
    """The graph of one import with the arrays rounds compute on."""

    key: str
    graph: nx.MultiDiGraph
    node_ids: np.ndarray  # OSM id of each matrix row
    lon: np.ndarray
    lat: np.ndarray
    lengths: csr_array  # metres, upper triangle; read as undirected
    index: dict[int, int]
    component: np.ndarray  # connected component of each row
    _trees: dict[int | None, tuple[BallTree, np.ndarray]] = field(default_factory=dict, repr=False)

    def nearest(
        self, lon: Sequence[float], lat: Sequence[float], *, part: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(matrix row, metres) of the vertex nearest to each point, among all vertices or
        those of one connected component. The haversine ball tree osmnx's `nearest_nodes`
        uses, built once per graph: osmnx rebuilds it, and a GeoDataFrame of the nodes, on
        every call (~45 ms here, three quarters of a 30-stop round)."""
        if part not in self._trees:
            rows = (
                np.arange(len(self.node_ids))
                if part is None
                else np.flatnonzero(self.component == part)
            )
            coords = np.radians(np.column_stack([self.lat[rows], self.lon[rows]]))
            self._trees[part] = (BallTree(coords, metric="haversine"), rows)
        tree, rows = self._trees[part]
        dist, idx = tree.query(np.radians(np.column_stack([lat, lon])), k=1)
        return rows[idx[:, 0]], dist[:, 0] * EARTH_RADIUS_M

    @classmethod
    def of(cls, key: str, graph: nx.MultiDiGraph) -> StreetGraph:
        node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
        index = {int(n): i for i, n in enumerate(node_ids)}
        lon = np.array([graph.nodes[n]["x"] for n in node_ids], dtype=np.float64)
        lat = np.array([graph.nodes[n]["y"] for n in node_ids], dtype=np.float64)
        edges = [(index[u], index[v], float(d["length"])) for u, v, d in graph.edges(data=True)]
        lengths = _length_matrix(edges, len(node_ids))
        _, component = connected_components(lengths, directed=False)
        return cls(key, graph, node_ids, lon, lat, lengths, index, component)


def _length_matrix(edges: list[tuple[int, int, float]], n: int) -> csr_array:
    """Sparse matrix of the shortest edge between each pair of nodes (i < j)."""
    if not edges:
        return csr_array((n, n))
    arr = np.array(edges, dtype=np.float64)
    i = np.minimum(arr[:, 0], arr[:, 1]).astype(np.int64)
    j = np.maximum(arr[:, 0], arr[:, 1]).astype(np.int64)
    order = np.lexsort((arr[:, 2], j, i))  # shortest first within each pair
    i, j, w = i[order], j[order], arr[order, 2]
    first = np.ones(len(i), dtype=bool)
    first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    # A zero-length edge (two nodes at one spot) must stay an edge, not vanish as 0.
    w = np.maximum(w[first], 1e-3)
    return csr_array((w, (i[first], j[first])), shape=(n, n))


def _cache_path(data_dir: Path, key: str) -> Path:
    return data_dir / CACHE_DIR / f"{key}.pickle"


def _load_or_build(data_dir: Path, key: str, rows: list[SegmentRow] | None) -> StreetGraph:
    """The cached graph of `key`, else the graph built from `rows` (then cached)."""
    path = _cache_path(data_dir, key)
    if path.is_file():
        with path.open("rb") as fh:
            return StreetGraph.of(key, pickle.load(fh))  # noqa: S301 - Carto's own file
    if not rows:
        raise StreetsMissing(
            "Les rues importées ne forment pas de réseau : relancez « carto import streets "
            "FICHIER --force »."
        )
    graph = build_graph(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(graph, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)  # atomic: another process never reads half a file
    for stale in path.parent.glob("*.pickle"):
        if stale != path:
            with contextlib.suppress(OSError):
                stale.unlink()
    log.info("street graph %s built: %d nodes", key, graph.number_of_nodes())
    return StreetGraph.of(key, graph)


def _no_streets() -> StreetsMissing:
    return StreetsMissing(
        "Aucune rue n'est chargée : l'administrateur doit lancer « carto import streets »."
    )


def prepare_graph(conn: psycopg.Connection, data_dir: Path) -> StreetGraph:
    """Build (or load) the graph of the current import: the CLI after an import, the bench."""
    current = conn.execute(CURRENT_IMPORT).fetchone()
    if current is None:
        raise _no_streets()
    key = graph_key(int(current[0]), str(current[1]))
    rows = None if _cache_path(data_dir, key).is_file() else conn.execute(SEGMENTS).fetchall()
    return _load_or_build(data_dir, key, rows)


class GraphStore:
    """The current street graph of a process, reloaded when the import changes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._graph: StreetGraph | None = None
        self._lock = asyncio.Lock()

    async def current(self, *, session: AsyncSession) -> StreetGraph:
        row = (await session.execute(text(CURRENT_IMPORT))).first()
        if row is None:
            raise _no_streets()
        key = graph_key(int(row[0]), str(row[1]))
        async with self._lock:
            if self._graph is None or self._graph.key != key:
                rows = None
                if not _cache_path(self.data_dir, key).is_file():
                    result = await session.execute(text(SEGMENTS))
                    rows = [tuple(r) for r in result.all()]
                self._graph = await asyncio.to_thread(
                    _load_or_build,
                    self.data_dir,
                    key,
                    rows,  # type: ignore[arg-type]
                )
            return self._graph
