"""The Prometheus metrics other packages move (definitions only, no I/O).

Base level: any package may import it; the `/metrics` endpoint, the request
middleware and the gauges read at scrape time are in `carto.ops.metrics`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, Protocol, TypeVar

from prometheus_client import Counter

ROUTING_DECISIONS = Counter(
    "carto_routing_decisions", "Reports routed to a service, by the rule's level.", ["level"]
)
ROUTING_FAILURES = Counter(
    "carto_routing_failures", "Routing refusals and errors, by error.", ["error"]
)

P = ParamSpec("P")


class _Decision(Protocol):
    @property
    def level(self) -> str: ...


D = TypeVar("D", bound=_Decision)


def count_routing(fn: Callable[P, Awaitable[D]]) -> Callable[P, Awaitable[D]]:
    """Count each decision `fn` makes, and each refusal (outside territory, no rule)."""

    @functools.wraps(fn)
    async def counted(*args: P.args, **kwargs: P.kwargs) -> D:
        try:
            decision = await fn(*args, **kwargs)
        except Exception as exc:
            ROUTING_FAILURES.labels(type(exc).__name__).inc()
            raise
        ROUTING_DECISIONS.labels(decision.level).inc()
        return decision

    return counted
