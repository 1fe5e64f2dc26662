"""Demo steps contributed by feature packages, run in order after the base demo data.

Each step is `step(conn, config, console)` on the loader's psycopg connection,
inside its transaction, and must be idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from rich.console import Console

from carto.concertations.demo import load_concertations_demo
from carto.demo.national import load_national_defaults
from carto.routing.demo import load_competence_table
from carto.signalements.demo import seed_signalements

DemoStep = Callable[[psycopg.Connection, dict[str, Any], Console | None], None]

STEPS: list[DemoStep] = [
    load_competence_table,
    load_national_defaults,
    load_concertations_demo,
    seed_signalements,
]
