"""Mapbox Vector Tile encoding of point features, compiled with numba.

Why not `ST_AsMVT`: on a dense z14 tile (a few thousand points) PostGIS spent
1.1-1.5 µs per point in `ST_AsMVTGeom` + `ST_AsMVT` alone (bench/tiles), more than
reading the points; tipg pays the same, so no query shape could serve such tiles
3× faster than tipg. A point feature is a handful of varints. Column by column in
numpy it still cost ~1.2 µs a point on this machine (60 array calls a tile, and a
sort to share the values); one compiled pass costs a few nanoseconds a point.

The output follows `ST_AsMVTGeom(geom, ST_TileEnvelope(z, x, y), 4096, 64, true)`
and `ST_AsMVT` for points: same rounding, same clipping (after rounding, edges
included), same value types (integers as `uint_value`, or `sint_value` when
negative; text as `string_value`), each value once in the layer's table;
tests/tiles/test_stored_points.py decodes both and compares them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from carto.tiles.grid import BUFFER, EXTENT

# Field tags (field number << 3 | wire type) of vector_tile.proto 2.1.
TILE_LAYERS = 0x1A
LAYER_VERSION, LAYER_NAME = 0x78, 0x0A
LAYER_KEYS, LAYER_VALUES, LAYER_EXTENT = 0x1A, 0x22, 0x28
VALUE_STRING = 0x0A


@dataclass(frozen=True)
class IntProperty:
    """An integer property present on every feature."""

    key: str
    values: np.ndarray  # int64, one per feature


@dataclass(frozen=True)
class TextProperty:
    """A text property as codes into `labels`; a `None` label means the feature lacks it."""

    key: str
    codes: np.ndarray  # integer index into labels, one per feature
    labels: Sequence[str | None]


Property = IntProperty | TextProperty


@numba.njit(cache=True)
def _put(out: np.ndarray, at: int, value: int) -> int:
    """`value` (unsigned) as a varint at `out[at]`; the position after it."""
    while value >= 0x80:
        out[at] = (value & 0x7F) | 0x80
        value >>= 7
        at += 1
    out[at] = value
    return at + 1


@numba.njit(cache=True)
def _size(value: int) -> int:
    size = 1
    while value >= 0x80:
        value >>= 7
        size += 1
    return size


@numba.njit(cache=True)
def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


@numba.njit(cache=True)
def _share(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values in order of first appearance, each value's index among them).

    An open-addressing hash table: sorting the ~2 values a feature holds cost 50 ns
    per value here, hashing ~10."""
    size = 16
    while size < 2 * values.shape[0]:
        size *= 2
    slots = np.full(size, -1, dtype=np.int64)  # index into table
    table = np.empty(values.shape[0], dtype=np.int64)
    rank = np.empty(values.shape[0], dtype=np.int64)
    count = 0
    for k in range(values.shape[0]):
        value = values[k]
        slot = ((value * -7046029254386353131) >> 17) & (size - 1)  # Fibonacci hashing
        while slots[slot] >= 0 and table[slots[slot]] != value:
            slot = (slot + 1) & (size - 1)
        if slots[slot] < 0:
            slots[slot] = count
            table[count] = value
            count += 1
        rank[k] = slots[slot]
    return table[:count], rank


@numba.njit(cache=True)
def _encode(
    tx: np.ndarray, ty: np.ndarray, ints: np.ndarray, texts: np.ndarray, order: np.ndarray,
    n_text: int,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(features, integer values) of the layer message, both encoded.

    `ints` (n × ki) holds integer properties, `texts` (n × kt) indexes into the text
    values (-1: absent); key j is `ints[:, order[j]]` when order[j] >= 0, else
    `texts[:, -order[j] - 1]`. Integers share one table, after the texts."""
    n = tx.shape[0]
    flat = ints.ravel()
    table, rank = _share(flat)
    rank += n_text
    index = rank.reshape(ints.shape)
    feats = np.empty(n * (16 + 6 * order.shape[0]), dtype=np.uint8)
    o = 0
    for i in range(n):
        tags = 0
        for j in range(order.shape[0]):
            col = order[j]
            v = index[i, col] if col >= 0 else texts[i, -col - 1]
            if v >= 0:
                tags += 1 + _size(v)
        zx, zy = _zigzag(tx[i]), _zigzag(ty[i])
        geometry = 1 + _size(zx) + _size(zy)
        feats[o] = 0x12  # Layer.features
        o = _put(feats, o + 1, 1 + _size(tags) + tags + 2 + 2 + geometry)
        feats[o] = 0x12  # Feature.tags
        o = _put(feats, o + 1, tags)
        for j in range(order.shape[0]):
            col = order[j]
            v = index[i, col] if col >= 0 else texts[i, -col - 1]
            if v >= 0:
                feats[o] = j
                o = _put(feats, o + 1, v)
        feats[o] = 0x18  # Feature.type = POINT
        feats[o + 1] = 1
        feats[o + 2] = 0x22  # Feature.geometry: MoveTo(1) x y
        feats[o + 3] = geometry
        feats[o + 4] = 9
        o = _put(feats, o + 5, zx)
        o = _put(feats, o, zy)
    values = np.empty(table.shape[0] * 13, dtype=np.uint8)
    v_o = 0
    for value in table:
        negative = value < 0
        payload = _zigzag(value) if negative else value
        values[v_o] = LAYER_VALUES
        values[v_o + 1] = 1 + _size(payload)
        values[v_o + 2] = 0x30 if negative else 0x28  # sint_value / uint_value
        v_o = _put(values, v_o + 3, payload)
    return feats[:o], values[:v_o]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint(len(payload)) + payload


def tile_coordinates(
    x: np.ndarray, y: np.ndarray, bounds: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept, tx, ty): which points ST_AsMVTGeom keeps, and their tile coordinates.

    As PostGIS does: to tile units, rounded half to even (`rint`), then clipped to
    the buffered square, edges included."""
    xmin, ymin, xmax, ymax = bounds
    fx = EXTENT / (xmax - xmin)
    fy = -EXTENT / (ymax - ymin)
    tx = np.rint(x * fx - xmin * fx)
    ty = np.rint(y * fy - ymax * fy)
    low, high = -BUFFER, EXTENT + BUFFER
    kept = (tx >= low) & (tx <= high) & (ty >= low) & (ty <= high)
    return kept, tx[kept].astype(np.int64), ty[kept].astype(np.int64)


def encode_points(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    properties: Sequence[Property],
    bounds: tuple[float, float, float, float],
) -> bytes:
    """One-layer MVT of the points (EPSG:3857 `x`, `y`) of the tile with `bounds`;
    b"" when none falls in the buffered tile (what ST_AsMVT gives for no rows)."""
    kept, tx, ty = tile_coordinates(x, y, bounds)
    n = len(tx)
    if n == 0:
        return b""
    text_index: dict[str, int] = {}
    int_cols: list[np.ndarray] = []
    text_cols: list[np.ndarray] = []
    order: list[int] = []
    for prop in properties:
        if isinstance(prop, IntProperty):
            order.append(len(int_cols))
            int_cols.append(prop.values[kept].astype(np.int64))
        else:
            lookup = np.array(
                [-1 if label is None else text_index.setdefault(label, len(text_index))
                 for label in prop.labels] or [-1],
                dtype=np.int64,
            )  # fmt: skip
            order.append(-len(text_cols) - 1)
            text_cols.append(lookup[prop.codes[kept]])
    ints = np.stack(int_cols, axis=1) if int_cols else np.empty((n, 0), dtype=np.int64)
    texts = np.stack(text_cols, axis=1) if text_cols else np.empty((n, 0), dtype=np.int64)
    feats, int_values = _encode(
        tx, ty, np.ascontiguousarray(ints), np.ascontiguousarray(texts),
        np.array(order, dtype=np.int64), len(text_index),
    )  # fmt: skip
    layer = b"".join(
        [
            bytes([LAYER_VERSION, 2]),
            _field(LAYER_NAME, name.encode()),
            feats.tobytes(),
            *(_field(LAYER_KEYS, p.key.encode()) for p in properties),
            *(_field(LAYER_VALUES, _field(VALUE_STRING, t.encode())) for t in text_index),
            int_values.tobytes(),
            bytes([LAYER_EXTENT]) + _varint(EXTENT),
        ]
    )
    return _field(TILE_LAYERS, layer)


def warm_up() -> None:
    """Compile the encoder now (a few seconds the first time on a machine, then loaded
    from numba's cache in ~0.1 s) rather than on a user's first tile."""
    encode_points(
        "warm_up",
        np.zeros(1),
        np.zeros(1),
        [
            IntProperty("id", np.zeros(1, dtype=np.int64)),
            TextProperty("t", np.zeros(1, dtype=np.int64), ["x"]),
        ],
        (-1.0, -1.0, 1.0, 1.0),
    )
