"""The Prometheus metrics other packages move (definitions only, no I/O).

Base level: any package may import it; the `/metrics` endpoint, the request
middleware and the gauges read at scrape time are in `carto.ops.metrics`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, Protocol, TypeVar

from prometheus_client import Counter, Histogram

ROUTING_DECISIONS = Counter(
    "carto_routing_decisions",
    "Reports routed to a service, by the rule's level and kind (confirmed or legal default).",
    ["level", "kind"],
)
ROUTING_FAILURES = Counter(
    "carto_routing_failures", "Routing refusals and errors, by error.", ["error"]
)

OUTBOX_DELIVERIES = Counter(
    "carto_outbox_deliveries", "Notifications handed to their sender, by channel.", ["channel"]
)
OUTBOX_FAILURES = Counter(
    "carto_outbox_failures",
    "Failed delivery attempts, by channel and whether retrying is pointless.",
    ["channel", "permanent"],
)
JOB_RUNS = Counter(
    "carto_job_runs", "Periodic job turns (carto.scheduler), by job and outcome.", ["job", "result"]
)
JOB_SECONDS = Histogram(
    "carto_job_duration_seconds",
    "Time of one periodic job turn, by job.",
    ["job"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0),
)

P = ParamSpec("P")


class _Decision(Protocol):
    @property
    def level(self) -> str: ...

    @property
    def rule_kind(self) -> str: ...


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
        ROUTING_DECISIONS.labels(decision.level, decision.rule_kind).inc()
        return decision

    return counted
