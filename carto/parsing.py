"""Strict parsers for the numbers that arrive as text (ids in paths, bounding boxes).

`str.isdigit()` accepts '²' and '٣' (which `int()` then refuses or reads), `float()`
accepts 'nan' and 'inf' (which every comparison then lets through): these two do not.
"""

from __future__ import annotations

import math
import re

_DIGITS = re.compile(r"[0-9]+")  # ASCII only
MAX_ID_DIGITS = 18  # always fits a bigint


def is_digits(text: str) -> bool:
    """Plain ASCII digits (what `str.isdigit()` is wrongly trusted to check)."""
    return _DIGITS.fullmatch(text) is not None


def parse_id(text: str) -> int | None:
    """A database id written in plain ASCII digits, or None (no such id can exist)."""
    return int(text) if is_digits(text) and len(text) <= MAX_ID_DIGITS else None


def finite_numbers(text: str, count: int) -> tuple[float, ...]:
    """Exactly `count` finite numbers separated by commas; ValueError otherwise."""
    parts = text.split(",")
    if len(parts) != count:
        raise ValueError(f"{count} numbers expected")
    values = tuple(float(p) for p in parts)
    if not all(math.isfinite(v) for v in values):
        raise ValueError("finite numbers expected")
    return values
