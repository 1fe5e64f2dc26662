"""A batch's outcomes as a frame, built by integer takes: no Python object per point.

Each output column is kept per outcome block as codes into its distinct values
(`bulk_table.Block`); the blocks' codes are merged, then taken per point. Repeated
texts become categoricals, ids nullable integers, informed services tuples.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from carto.errors import CartoError, OutsideTerritory
from carto.routing.bulk_table import COLUMNS, INVALID, OUTSIDE, Batch, Block
from carto.routing.resolution import ELSEWHERE, OUTSIDE_MESSAGE, check_point, outside

# A point outside every commune, in a frame: the row is the point, so the message
# does not repeat its coordinates (writing them costs more than the whole decision).
OUTSIDE_ROW = OUTSIDE_MESSAGE.replace(" ({lat:.5f}, {lon:.5f})", "") + " " + ELSEWHERE

INTEGERS = ("rule_id", "authority_id", "service_id")


def error_at(kind: int, lon: float, lat: float) -> CartoError:
    """The refusal of a point that is not one (INVALID) or outside every commune."""
    if kind == OUTSIDE:
        return outside(lon, lat)
    try:
        check_point(lon, lat)
    except CartoError as exc:
        return exc
    raise AssertionError("a valid point was marked invalid")


def _merged(blocks: list[tuple[Block, int]], name: str) -> tuple[np.ndarray, list[Any]]:
    """Per outcome of the blocks laid end to end, a code into the distinct values
    (-1: None), and those values."""
    values: list[Any] = []
    index: dict[Any, int] = {}
    first: Block | None = None
    known = 0  # how many of `values` are the first block's
    parts = []
    for block, size in blocks:
        if size == 0:
            continue
        own = block.values[name]
        if first is None:  # a block's values are distinct: kept as they are
            first, values, known = block, list(own), len(own)
            mapping = np.arange(len(own), dtype=np.int64)
        else:
            mapping = np.empty(len(own), dtype=np.int64)
            for j, value in enumerate(own):
                code = first.index_of(name, value, known)
                if code is None:
                    code = index.get(value)
                if code is None:
                    code = index[value] = len(values)
                    values.append(value)
                mapping[j] = code
        parts.append(mapping[block.code_array(name, size)])
    codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    k = first.index_of(name, None, known) if first is not None else None
    k = index.get(None) if k is None else k
    if k is not None:
        codes = np.where(codes == k, -1, codes - (codes > k))
        values = values[:k] + values[k + 1 :]
    return codes, values


@cache
def sentinels() -> Block:
    """The outcomes of a point that is not one and of a point outside every commune."""
    block = Block()
    block.add(error_at(INVALID, math.nan, math.nan))
    block.add(OutsideTerritory(OUTSIDE_ROW))
    return block


def _column(blocks: list[tuple[Block, int]], name: str) -> tuple[np.ndarray, Any]:
    """Per outcome a code (-1: None), and what turns codes into the column: kept on the
    first block until the blocks or their sizes change."""
    live = [(b, size) for b, size in blocks if size]
    key = tuple((id(b), size) for b, size in live)
    found = live[0][0].merged.get(name)
    if found is not None and found[0] == key:
        return found[1]  # type: ignore[no-any-return]
    codes, values = _merged(live, name)
    payload: Any
    if name in INTEGERS:
        payload = np.array([*values, 0], dtype=np.int64)
    elif name == "informed_service_ids":
        payload = np.empty(len(values) + 1, dtype=object)
        payload[: len(values)] = values
    else:
        payload = pd.CategoricalDtype(pd.Index(values, dtype=object))
        codes = codes.astype(np.int8 if len(values) < 127 else np.int16 if len(values) < 32767
                             else np.int32)  # fmt: skip # the categorical's own: no copy
    live[0][0].merged[name] = (key, (codes, payload))
    return codes, payload


def frame_columns(batch: Batch) -> dict[str, Any]:
    """The route_frame columns of a batch, in order."""
    blocks = [*batch.blocks, (sentinels(), 2)]
    total = sum(size for _, size in batch.blocks)
    which = batch.which
    take = np.where(which >= 0, which, total + (which == OUTSIDE))
    out: dict[str, Any] = {}
    for name in COLUMNS:
        codes, payload = _column(blocks, name)
        at = codes[take]
        if name in INTEGERS:
            out[name] = pd.arrays.IntegerArray(payload[at], at < 0)
        elif name == "informed_service_ids":
            out[name] = pd.arrays.NumpyExtensionArray(payload[at])
        else:
            out[name] = pd.Categorical.from_codes(at, dtype=payload, validate=False)
    out["commune_insee"] = pd.Categorical.from_codes(
        batch.commune, dtype=batch.commune_dtype(), validate=False
    )
    return out
