"""Demo step of the routing package: the deployment file's competence table, loaded."""

from __future__ import annotations

from typing import Any

import psycopg
from rich.console import Console

from carto.routing.competence_config import (
    rules_from_config,
    upsert_category_domains,
    upsert_rules,
)


def load_competence_table(
    conn: psycopg.Connection, config: dict[str, Any], console: Console | None
) -> None:
    """Idempotent: a second run inserts nothing and changes nothing."""
    upsert_category_domains(conn, config)
    changed = upsert_rules(conn, rules_from_config(config))
    if console and changed:
        console.print(f"Compétences : {changed} règle(s) chargée(s) ou mise(s) à jour")
