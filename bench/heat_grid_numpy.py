"""The proposed grid's cells computed outside SQL: one sort of the points, a roll-up per level.

A sketch for issue 22's 60 s (docs/heat-grid-design.md): the points leave PostgreSQL as
fixed-width binary COPY rows (level-18 cell, pair of dims, weight), are keyed by
(pair, Morton code of the cell) and sorted once; since a parent's Morton code is its
child's shifted by two bits, every coarser level is an O(n) reduction of the sorted keys,
with no further sort nor hash. Dense blocks (the 32 x 32 cells of a heatmap tile, at
least `dense` points) are read from the totals. Times the COPY and the computation, and
counts the rows the packed grid would hold; writing them back is not prototyped.
"""

from __future__ import annotations

import time

import numpy as np
import psycopg

from carto.tiles.grid import HEAT_MAX_LEVEL, HEAT_MIN_LEVEL

PAIR_SHIFT = 40  # key: pair rank (0 for the totals) << 40 | Morton code (36 bits at z18)
MORTON = (1 << PAIR_SHIFT) - 1
COUNTS = ("points", "coarse cells", "fine cells", "fine pairs")  # the rest are seconds
ROW = np.dtype([
    ("f", ">i2"), ("l1", ">i4"), ("cy", ">i4"), ("l2", ">i4"), ("cx", ">i4"),
    ("l3", ">i4"), ("k", ">i4"), ("l4", ">i4"), ("w", ">f8"),
])  # fmt: skip
COPY = """
COPY (SELECT tiles.tile_y(h.y, {top})::int4, tiles.tile_x(h.x, {top})::int4, p.k::int4,
             h.w::float8
      FROM tiles.heat_point h JOIN (
          SELECT dim_a, dim_b, row_number() OVER (ORDER BY dim_a COLLATE "C", dim_b COLLATE "C")
                 AS k
          FROM tiles.heat_point WHERE layer = {layer} GROUP BY 1, 2) p USING (dim_a, dim_b)
      WHERE h.layer = {layer}) TO STDOUT (FORMAT binary)
"""


def spread(v: np.ndarray) -> np.ndarray:
    """The bits of v (< 2^32) at the even positions of a uint64."""
    v = v.astype(np.uint64)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                        (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                        (1, 0x5555555555555555)):  # fmt: skip
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def reduce(keys: np.ndarray, n: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sum n and w over runs of equal keys (keys sorted)."""
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.add.reduceat(n, starts), np.add.reduceat(w, starts)


def build(
    conn: psycopg.Connection,
    layer: str,
    *,
    dense: int,
    fine: int,
    scales: dict[tuple[int, bool], float] | None = None,
) -> dict[str, float]:
    """Seconds of each step and the row counts; `scales` receives each level's unfiltered
    colour scales, (level, weighted) -> the 99th percentile of the non-empty cells, as
    carto/tiles/heat.py computes them (`percentile_cont`: numpy's linear percentile)."""
    out: dict[str, float] = {}
    began = time.perf_counter()
    chunks: list[bytes] = []
    statement = COPY.format(top=HEAT_MAX_LEVEL, layer="'" + layer.replace("'", "''") + "'")
    with conn.cursor().copy(statement) as copy:  # type: ignore[arg-type]
        for data in copy:
            chunks.append(bytes(data))
    raw = b"".join(chunks)
    rows = np.frombuffer(raw, dtype=ROW, offset=19, count=(len(raw) - 21) // ROW.itemsize)
    out["copy out"] = time.perf_counter() - began
    began = time.perf_counter()
    morton = (spread(rows["cy"]) << np.uint64(1)) | spread(rows["cx"])
    pair = rows["k"].astype(np.uint64) << np.uint64(PAIR_SHIFT)
    keys = np.concatenate((morton, pair | morton))  # the totals, then each point's pair
    weights = np.concatenate((rows["w"], rows["w"])).astype(np.float64)
    order = np.argsort(keys, kind="stable")
    keys, n, w = reduce(keys[order], np.ones(len(keys), np.int64), weights[order])
    out["sort"] = time.perf_counter() - began
    began = time.perf_counter()
    coarse = fine_cells = fine_pairs = 0
    for level in range(HEAT_MAX_LEVEL, HEAT_MIN_LEVEL - 1, -1):
        if level < HEAT_MAX_LEVEL:
            high = keys & ~np.uint64(MORTON)
            keys, n, w = reduce(high | ((keys & np.uint64(MORTON)) >> np.uint64(2)), n, w)
        totals = keys < np.uint64(1 << PAIR_SHIFT)
        if scales is not None:
            for weighted, values in ((False, n[totals]), (True, w[totals])):
                values = values[values > 0]
                scales[(level, weighted)] = float(np.percentile(values, 99)) if len(values) else 0.0
        if level < fine:
            coarse += int(totals.sum())
            continue
        blocks, counts, _ = reduce(keys[totals] >> np.uint64(10), n[totals], w[totals])
        dense_blocks = blocks[counts >= dense]
        cell_block = (keys & np.uint64(MORTON)) >> np.uint64(10)
        kept = np.isin(cell_block, dense_blocks, assume_unique=False)
        fine_cells += int((kept & totals).sum())
        fine_pairs += int((kept & ~totals).sum())
    out["roll-up and dense blocks"] = time.perf_counter() - began
    out["points"] = float(len(rows))
    out["coarse cells"] = float(coarse)
    out["fine cells"] = float(fine_cells)
    out["fine pairs"] = float(fine_pairs)
    return out
