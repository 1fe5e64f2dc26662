"""Which polygon covers each of many points, settling most of them without a polygon test.

A grid of small cells is built once. A cell that no polygon boundary crosses lies
wholly inside one polygon (or outside all) and answers for every point in it by an
array lookup. Only points in cells a boundary crosses get exact tests, and only
against the few polygons that matter there (those whose boundary crosses the cell,
plus any that covers it whole), in code order, stopping at the first that covers
the point: on a shared boundary the lowest code wins, as in the single-report
query, and boundaries belong to the polygon (ST_Covers, `intersects_xy` here).

Cells are addressed by `floor(coordinate / cell_size)` in both the build and the
lookup. That index is monotonic in the coordinate, so a segment's points fall in
the index range of its end points: marking those ranges marks every cell that
holds a boundary point, whatever the floating-point rounding. Cells are stored
in dense 64 x 64 blocks, only where polygons are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

ABSENT = -1  # no polygon covers the cell
BLOCK_BITS = 6
BLOCK = 1 << BLOCK_BITS
DIRECTORY_MAX = 4_000_000  # blocks in the bounding box, beyond which blocks are searched
LONG_SEGMENT_CELLS = 4  # beyond this many cells in its index range, a segment is clipped


def _cell(v: np.ndarray, size: float) -> np.ndarray:
    return np.floor(np.asarray(v, dtype=float) / size).astype(np.int64)


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a diff: faster here than np.unique's hashing)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if a.size else a


def _block_key(bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    return (bx.astype(np.int64) << 32) | (by.astype(np.int64) & 0xFFFFFFFF)


@dataclass
class PointLocator:
    """Block grid over polygons sorted by code; `locate` gives each point's polygon index."""

    codes: np.ndarray  # polygon codes (e.g. INSEE), sorted ascending
    polygons: np.ndarray  # shapely geometries, same order, prepared
    cell_size: float
    block_keys: np.ndarray  # sorted keys of the stored blocks
    values: np.ndarray  # int32 per cell: polygon index, ABSENT, or -2 - mixed cell id
    cand_start: np.ndarray  # per mixed cell: its candidates in `cand_poly`
    cand_poly: np.ndarray  # candidate polygon indices, ascending within a cell

    @classmethod
    def build(
        cls, codes: np.ndarray, polygons: np.ndarray, cell_size: float = 0.005
    ) -> PointLocator:
        order = np.argsort(np.asarray(codes), kind="stable")
        codes, polygons = np.asarray(codes)[order], np.asarray(polygons)[order]
        shapely.prepare(polygons)
        b_cell, b_poly = _boundary_pairs(polygons, cell_size)
        block_keys = _blocks(polygons, cell_size)
        flat = _flat_index(block_keys, b_cell[:, 0], b_cell[:, 1])
        ncells = len(block_keys) * BLOCK * BLOCK
        boundary = np.zeros(ncells, dtype=bool)
        boundary[flat] = True
        tree = shapely.STRtree(polygons)
        values = _interior_values(boundary, block_keys, cell_size, polygons, tree)
        # Mixed cells: polygons whose boundary crosses them, plus any covering the centre.
        mixed = np.flatnonzero(boundary)
        cx, cy = _centres(mixed, block_keys, cell_size)
        pi, gi = _covering_pairs(tree, polygons, cx, cy)
        npoly = len(polygons)
        pairs = _unique(np.concatenate([flat * npoly + b_poly, mixed[pi] * npoly + gi]))
        mixed_id = np.searchsorted(mixed, pairs // npoly)
        cand_start = np.searchsorted(mixed_id, np.arange(len(mixed) + 1))
        values[mixed] = -2 - np.arange(len(mixed), dtype=np.int32)
        return cls(codes, polygons, cell_size, block_keys, values, cand_start.astype(np.int64),
                   pairs % npoly)  # fmt: skip

    def __post_init__(self) -> None:
        """A dense directory of the blocks over their bounding box when it is small
        (all of France with its overseas: ~340,000 entries): a lookup, not a search."""
        self._directory: np.ndarray | None = None
        if len(self.block_keys) == 0:
            return
        bx = self.block_keys >> 32
        by = (self.block_keys & 0xFFFFFFFF).astype(np.int32).astype(np.int64)
        self._origin = (int(bx.min()), int(by.min()))
        self._shape = (int(bx.max()) - self._origin[0] + 1, int(by.max()) - self._origin[1] + 1)
        if self._shape[0] * self._shape[1] <= DIRECTORY_MAX:
            directory = np.full(self._shape[0] * self._shape[1], -1, dtype=np.int64)
            slot = (bx - self._origin[0]) * self._shape[1] + (by - self._origin[1])
            directory[slot] = np.arange(len(self.block_keys))
            self._directory = directory

    def _block_pos(self, ix: np.ndarray, iy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's block position in `block_keys`, and whether that block is stored."""
        if self._directory is None:
            keys = _block_key(ix >> BLOCK_BITS, iy >> BLOCK_BITS)
            pos = np.minimum(np.searchsorted(self.block_keys, keys), len(self.block_keys) - 1)
            return pos, self.block_keys[pos] == keys
        bx = (ix >> BLOCK_BITS) - self._origin[0]
        by = (iy >> BLOCK_BITS) - self._origin[1]
        inside = (bx >= 0) & (bx < self._shape[0]) & (by >= 0) & (by < self._shape[1])
        pos = self._directory[np.where(inside, bx * self._shape[1] + by, 0)]
        return np.maximum(pos, 0), inside & (pos >= 0)

    def cell_values(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        ix, iy = _cell(lon, self.cell_size), _cell(lat, self.cell_size)
        pos, stored = self._block_pos(ix, iy)
        found = stored & np.isfinite(lon) & np.isfinite(lat)
        flat = (pos << (2 * BLOCK_BITS)) | ((ix & (BLOCK - 1)) << BLOCK_BITS) | (iy & (BLOCK - 1))
        return np.where(found, self.values[np.where(found, flat, 0)], ABSENT)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index into `codes` of the polygon covering each point, -1 when none does."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        result = self.cell_values(lon, lat).astype(np.int64)
        todo = np.flatnonzero(result <= -2)
        if todo.size == 0:
            return result
        mixed = -2 - result[todo]
        result[todo] = ABSENT
        start, stop = self.cand_start[mixed], self.cand_start[mixed + 1]
        # Round k tests each unsettled point against its k-th candidate (lowest code first).
        k = 0
        while todo.size:
            live = start + k < stop
            todo, start, stop = todo[live], start[live], stop[live]
            if todo.size == 0:
                break
            poly = self.cand_poly[start + k]
            hit = shapely.intersects_xy(self.polygons[poly], lon[todo], lat[todo])
            result[todo[hit]] = poly[hit]
            todo, start, stop = todo[~hit], start[~hit], stop[~hit]
            k += 1
        return result

    def settled_share(self, lon: np.ndarray, lat: np.ndarray) -> float:
        """Share of points answered by the grid alone (for benchmarks)."""
        return float(np.mean(self.cell_values(np.asarray(lon), np.asarray(lat)) >= ABSENT))


def _boundary_pairs(polygons: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """(cell ix, iy) and polygon index of every cell a polygon's boundary may cross."""
    parts, part_of = shapely.get_parts(polygons, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    seg = np.flatnonzero(ring_of[:-1] == ring_of[1:])
    poly = part_of[ring_part[ring_of[seg]]]
    (x0, y0), (x1, y1) = coords[seg].T, coords[seg + 1].T
    ix0, ix1 = _cell(np.minimum(x0, x1), size), _cell(np.maximum(x0, x1), size)
    iy0, iy1 = _cell(np.minimum(y0, y1), size), _cell(np.maximum(y0, y1), size)
    nx, ny = ix1 - ix0 + 1, iy1 - iy0 + 1
    count = nx * ny
    rep = np.repeat(np.arange(len(seg)), count)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    cx, cy = ix0[rep] + offset // ny[rep], iy0[rep] + offset % ny[rep]
    keep = count[rep] <= LONG_SEGMENT_CELLS
    long_ = ~keep
    if long_.any():  # a long segment: only the cells it crosses, boxes widened by a margin
        r = rep[long_]
        keep[long_] = _segment_meets_cell(x0[r], y0[r], x1[r], y1[r], cx[long_], cy[long_], size)
    return np.column_stack([cx[keep], cy[keep]]), poly[rep[keep]]


def _segment_meets_cell(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, ix: np.ndarray,
    iy: np.ndarray, size: float, margin: float = 1e-9,
) -> np.ndarray:  # fmt: skip
    """Whether each segment may touch each cell's box (corners not all on one side)."""
    left, right = ix * size - margin, (ix + 1) * size + margin
    bottom, top = iy * size - margin, (iy + 1) * size + margin
    dx, dy = x1 - x0, y1 - y0
    sides = np.stack(
        [
            dx * (cy - y0) - dy * (cx - x0)
            for cx, cy in ((left, bottom), (left, top), (right, bottom), (right, top))
        ]
    )
    return np.asarray(~((sides > 0).all(axis=0) | (sides < 0).all(axis=0)))


def _blocks(polygons: np.ndarray, size: float) -> np.ndarray:
    """Sorted keys of the blocks that polygons' bounding boxes touch."""
    bounds = shapely.bounds(polygons)
    bx0, by0 = _cell(bounds[:, 0], size) >> BLOCK_BITS, _cell(bounds[:, 1], size) >> BLOCK_BITS
    bx1, by1 = _cell(bounds[:, 2], size) >> BLOCK_BITS, _cell(bounds[:, 3], size) >> BLOCK_BITS
    nx, ny = bx1 - bx0 + 1, by1 - by0 + 1
    count = nx * ny
    rep = np.repeat(np.arange(len(polygons)), count)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
    return _unique(_block_key(bx0[rep] + offset // ny[rep], by0[rep] + offset % ny[rep]))


def _flat_index(block_keys: np.ndarray, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(block_keys, _block_key(ix >> BLOCK_BITS, iy >> BLOCK_BITS))
    return (pos << (2 * BLOCK_BITS)) | ((ix & (BLOCK - 1)) << BLOCK_BITS) | (iy & (BLOCK - 1))


def _centres(flat: np.ndarray, block_keys: np.ndarray, size: float) -> tuple[np.ndarray, ...]:
    key = block_keys[flat >> (2 * BLOCK_BITS)]
    bx, by = key >> 32, (key & 0xFFFFFFFF).astype(np.int32).astype(np.int64)
    ix = (bx << BLOCK_BITS) | ((flat >> BLOCK_BITS) & (BLOCK - 1))
    iy = (by << BLOCK_BITS) | (flat & (BLOCK - 1))
    return (ix + 0.5) * size, (iy + 0.5) * size


def _covering_pairs(
    tree: shapely.STRtree, polygons: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(point index, polygon index) of every polygon covering each point."""
    pi, gi = tree.query(shapely.points(x, y))
    hit = shapely.intersects_xy(polygons[gi], x[pi], y[pi])
    return pi[hit], gi[hit]


def _interior_values(
    boundary: np.ndarray, block_keys: np.ndarray, size: float, polygons: np.ndarray,
    tree: shapely.STRtree,
) -> np.ndarray:  # fmt: skip
    """The owner of every cell no boundary crosses: one exact test per run of such cells
    along a block's column (a run holds no boundary point, so one polygon covers it all)."""
    values = np.full(boundary.size, ABSENT, dtype=np.int32)
    free = ~boundary
    col_start = (np.arange(boundary.size) & (BLOCK - 1)) == 0
    prev_bound = np.concatenate([[True], boundary[:-1]])
    starts = free & (col_start | prev_bound)
    run_id = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    x, y = _centres(first, block_keys, size)
    pi, gi = _covering_pairs(tree, polygons, x, y)
    owner = np.full(len(first), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(owner, pi, gi)  # polygons are sorted by code: lowest index, lowest code
    owner[owner == np.iinfo(np.int64).max] = ABSENT
    values[free] = owner[run_id[free]]
    return values
