"""The proposed grid's cells computed outside SQL: one sort of the points, a roll-up per level.

A sketch for issue 22's 60 s (docs/heat-grid-design.md): the points leave PostgreSQL as
fixed-width binary COPY rows (level-18 cell, pair of dims, weight), are keyed by
(pair, Morton code of the cell) and sorted once; since a parent's Morton code is its
child's shifted by two bits, every coarser level is an O(n) reduction of the sorted keys,
with no further sort nor hash. Dense blocks (the 32 x 32 cells of a heatmap tile, at
least `dense` points) are read from the totals. Times the COPY out, the computation, the
encoding of the packed rows as binary COPY rows (compiled with numba, as the point tiles'
encoder is: no Python object per row)
and their COPY into `proto.npgrid` with its primary key. No read path, fold nor swap.
"""

from __future__ import annotations

import time

import numba
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


TABLE = """CREATE TABLE proto.npgrid (level smallint, cy integer, cx integer, n integer,
    w double precision, k smallint[], kn integer[], kw double precision[])"""
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
FIXED = 116  # bytes of a row besides its pairs (binary COPY: lengths, array headers)
PER_PAIR = 26  # k int2, kn int4, kw float8, each with its 4-byte length


def compact(v: np.ndarray) -> np.ndarray:
    """The even bits of v, packed (the inverse of `spread`)."""
    v = v & np.uint64(0x5555555555555555)
    for shift, mask in ((1, 0x3333333333333333), (2, 0x0F0F0F0F0F0F0F0F),
                        (4, 0x00FF00FF00FF00FF), (8, 0x0000FFFF0000FFFF),
                        (16, 0x00000000FFFFFFFF)):  # fmt: skip
        v = (v | (v >> np.uint64(shift))) & np.uint64(mask)
    return v.astype(np.int64)


@numba.njit(cache=True)
def _int(out: np.ndarray, pos: int, value: int, size: int) -> int:
    """`value` big-endian on `size` bytes at out[pos:]; the next position."""
    for i in range(size):
        out[pos + i] = (value >> (8 * (size - 1 - i))) & 0xFF
    return pos + size


@numba.njit(cache=True)
def _encode(
    out: np.ndarray, level: int, cy: np.ndarray, cx: np.ndarray, n: np.ndarray,
    w_bits: np.ndarray, pairs: np.ndarray, k: np.ndarray, kn: np.ndarray, kw_bits: np.ndarray,
) -> int:  # fmt: skip
    """Binary COPY rows of proto.npgrid: one per cell, its pairs k/kn/kw as arrays."""
    pos = 0
    e = 0
    for i in range(len(cy)):
        m = pairs[i]
        pos = _int(out, pos, 8, 2)  # fields
        pos = _int(out, _int(out, pos, 2, 4), level, 2)
        pos = _int(out, _int(out, pos, 4, 4), cy[i], 4)
        pos = _int(out, _int(out, pos, 4, 4), cx[i], 4)
        pos = _int(out, _int(out, pos, 4, 4), n[i], 4)
        pos = _int(out, _int(out, pos, 8, 4), w_bits[i], 8)
        for a in range(3):  # k int2 (oid 21), kn int4 (23), kw float8 (701)
            width = 2 if a == 0 else (4 if a == 1 else 8)
            pos = _int(out, pos, 20 + (4 + width) * m, 4)  # length
            pos = _int(out, pos, 1, 4)  # one dimension
            pos = _int(out, pos, 0, 4)  # no nulls
            pos = _int(out, pos, 21 if a == 0 else (23 if a == 1 else 701), 4)
            pos = _int(out, pos, m, 4)
            pos = _int(out, pos, 1, 4)  # lower bound
            for j in range(e, e + m):
                value = k[j] if a == 0 else (kn[j] if a == 1 else kw_bits[j])
                pos = _int(out, _int(out, pos, width, 4), value, width)
        e += m
    return pos


def packed_rows(level: int, keys: np.ndarray, n: np.ndarray, w: np.ndarray) -> bytes:
    """One level's cells as binary COPY rows of proto.npgrid, in Morton order: the totals
    (pair 0) and the pairs of each cell, from keys sorted by (pair, cell)."""
    if not len(keys):
        return b""
    order = np.argsort(keys & np.uint64(MORTON), kind="stable")  # pairs stay in rank order
    keys, n, w = keys[order], n[order], w[order]
    cell = keys & np.uint64(MORTON)
    first = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))  # its totals
    pairs = np.diff(np.append(first, len(keys))) - 1
    buf = np.zeros(int((FIXED + PER_PAIR * pairs).sum()), np.uint8)
    elem = np.ones(len(keys), bool)
    elem[first] = False
    morton = cell[first]
    written = _encode(
        buf, level, compact(morton >> np.uint64(1)), compact(morton), n[first].astype(np.int64),
        w[first].astype(np.float64).view(np.int64), pairs.astype(np.int64),
        (keys[elem] >> np.uint64(PAIR_SHIFT)).astype(np.int64), n[elem].astype(np.int64),
        w[elem].astype(np.float64).view(np.int64),
    )  # fmt: skip
    assert written == len(buf)
    return buf.tobytes()


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
    write: bool = False,
) -> dict[str, float]:
    """Seconds of each step and the row counts; `scales` receives each level's unfiltered
    colour scales, (level, weighted) -> the 99th percentile of the non-empty cells, as
    carto/tiles/heat.py computes them (`percentile_cont`: numpy's linear percentile).
    With `write`, the packed rows are COPYed into `proto.npgrid` (schema `proto` must
    exist) and given their primary key."""
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
    stored: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
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
            stored.append((level, keys, n, w))
            continue
        blocks, counts, _ = reduce(keys[totals] >> np.uint64(10), n[totals], w[totals])
        dense_blocks = blocks[counts >= dense]
        cell_block = (keys & np.uint64(MORTON)) >> np.uint64(10)
        kept = np.isin(cell_block, dense_blocks, assume_unique=False)
        fine_cells += int((kept & totals).sum())
        fine_pairs += int((kept & ~totals).sum())
        stored.append((level, keys[kept], n[kept], w[kept]))
    out["roll-up and dense blocks"] = time.perf_counter() - began
    if write:
        began = time.perf_counter()
        body = b"".join(packed_rows(*level_rows) for level_rows in reversed(stored))
        out["packed rows encoded"] = time.perf_counter() - began
        began = time.perf_counter()
        conn.execute(TABLE)
        with conn.cursor().copy("COPY proto.npgrid FROM STDIN (FORMAT binary)") as copy:
            copy.write(HEADER)
            for start in range(0, len(body), 1 << 24):
                copy.write(body[start : start + (1 << 24)])
            copy.write(b"\xff\xff")
        out["COPY in"] = time.perf_counter() - began
        began = time.perf_counter()
        conn.execute("ALTER TABLE proto.npgrid ADD PRIMARY KEY (level, cy, cx)")
        out["primary key"] = time.perf_counter() - began
    out["points"] = float(len(rows))
    out["coarse cells"] = float(coarse)
    out["fine cells"] = float(fine_cells)
    out["fine pairs"] = float(fine_pairs)
    return out
