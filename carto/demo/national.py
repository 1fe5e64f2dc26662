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


FRANCE_PACK = "france-communes.npz.xz"
LOADED_AT_LEAST = 34000  # communes: France is there (the demo alone has 170)


def load_france_demo(conn: psycopg.Connection, console: Console | None) -> bool:
    """Import every French commune from the shipped compact copy, once; later starts
    only count the communes. Returns whether it imported."""
    row = conn.execute("SELECT count(*) FROM commune").fetchone()
    if row and row[0] >= LOADED_AT_LEAST:
        return False
    from importlib import resources

    from carto.demo.france_pack import unpack
    from carto.territories.france import import_france

    data = (resources.files("carto.demo") / "data" / FRANCE_PACK).read_bytes()
    report = import_france(conn, unpack(data))
    load_national_defaults(conn, {}, None)
    if console:
        console.print(f"France : {report.upserted} en {report.seconds:.1f} s")
    return True
