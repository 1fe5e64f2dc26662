"""The OGC API's CSV output (`f=csv`), in place of tipg's `create_csv_rows`.

tipg's generator calls `next()` on the rows for the header: an empty page raises
StopIteration inside a generator, a RuntimeError in the middle of a streamed 200 (the
client sees the answer cut short). And its cells go out as typed: a contribution titled
`=HYPERLINK(...)` would become a formula in the planner's spreadsheet, as it did in
`/exports/*.csv` (issue 16, finding 9). This one writes nothing for an empty page and
neutralises text cells the OWASP way, like the exports (numbers stay numbers).
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Line:
    """csv.writer's file: hands each written line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


def safe_csv_rows(data: Iterable[dict[str, Any]]) -> Generator[str, None, None]:
    """CSV lines of `data` (dicts): the header from the first row, then every row."""
    rows = iter(data)
    first = next(rows, None)
    if first is None:
        return
    writer = csv.DictWriter(_Line(), fieldnames=list(first.keys()))
    yield writer.writerow({name: name for name in first})
    yield writer.writerow({k: neutralise(v) for k, v in first.items()})
    for row in rows:
        yield writer.writerow({k: neutralise(v) for k, v in row.items()})


def install() -> None:
    """tipg's factory looks the function up by name when it answers `f=csv`."""
    import tipg.factory

    tipg.factory.create_csv_rows = safe_csv_rows  # type: ignore[assignment]
