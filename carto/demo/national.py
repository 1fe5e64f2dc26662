"""Demo step: the national default competences and every authority's front desk, so that a
point of the demo territories without a rule of its own still reaches a named authority."""

from __future__ import annotations

from typing import Any

import psycopg
from rich.console import Console

from carto.routing.defaults import load_defaults
from carto.territories.france import ensure_contact_services


def load_national_defaults(
    conn: psycopg.Connection, config: dict[str, Any], console: Console | None
) -> None:
    """Idempotent: defaults are versioned rules, contact services are inserted once."""
    services = ensure_contact_services(conn)
    counts = load_defaults(conn)
    if console and (services or counts["added"] or counts["closed"]):
        console.print(f"Compétences par défaut : {counts} ; accueils créés : {services}")
