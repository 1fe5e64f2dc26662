"""One style for every variation point (exporters by format, senders by channel, tile
layers by name, personal-data providers by feature): a named mapping, read like a dict,
filled by `register` calls in one place (carto.wiring), never by importing a module for
its side effects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Implementations of one variation point, keyed by data (a format, a channel...)."""

    def __init__(self, what: str, builtins: Iterable[tuple[str, T]] = ()) -> None:
        self.what = what  # for messages: "format d'export", "canal d'envoi"...
        self._items: dict[str, T] = dict(builtins)

    def register(self, key: str, item: T) -> None:
        """Idempotent: registering a key again replaces its item (wiring may run twice)."""
        self._items[key] = item

    def unregister(self, key: str) -> None:
        self._items.pop(key, None)

    def __getitem__(self, key: str) -> T:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {sorted(self._items)})"
