"""The follow link e-mailed to an authority without Carto: delivered through a local SMTP
sink, it shows the ticket and acts on it without an account; tampered, expired, another
recipient's or replayed after close, it is refused with a French page and stores nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from carto.notifications.follow_link import PLACEHOLDER, LinkExpired, sign, verify
from carto.notifications.senders import Delivery, SmtpEmailSender
from tests.signalements.conftest import count, new_ticket
from tests.signalements.without_carto import MAIRIE, POINT, make_testville


async def _link_by_email(session, smtp_settings, smtp, ticket: int) -> str:
    row = (await session.execute(text(
        "SELECT id, payload, event_key, created_at FROM notification_outbox "
        "WHERE recipient = :to"), {"to": MAIRIE})).one()  # fmt: skip
    assert row.payload["follow"] == {"signalement_id": ticket, "recipient": MAIRIE}
    assert PLACEHOLDER in row.payload["text"]
    inbox, _ = smtp
    sender = SmtpEmailSender(smtp_settings)
    await sender.send(
        Delivery(row.id, "email", MAIRIE, row.payload, row.event_key, 0, row.created_at)
    )
    body = inbox.messages[0].get_payload(decode=True).decode()
    assert PLACEHOLDER not in body
    found = re.search(r"http://test(/suivi-mairie/\S+)", body)
    assert found, body
    return found.group(1)


async def test_follow_link_acts_without_account(client, session, smtp_settings, smtp):
    await make_testville(session)
    ticket = (await new_ticket(client, *POINT, code="proprete"))["id"]
    link = await _link_by_email(session, smtp_settings, smtp, ticket)
    page = await client.get(link)
    assert page.status_code == 200 and f"Signalement n° {ticket}" in page.text
    assert "Répondre" in page.text and page.headers["cache-control"] == "no-store"
    resp = await client.post(link, data={"action": "acknowledged"})
    assert resp.status_code == 200 and "noté : pris en compte" in resp.text
    note = (await session.execute(text(
        "SELECT internal_note FROM signalement_event WHERE signalement_id = :id "
        "AND to_state = 'acknowledged'"), {"id": ticket})).scalar_one()  # fmt: skip
    assert note == f"par e-mail ({MAIRIE})"
    events = await count(session, "signalement_event")
    resp = await client.post(link, data={"action": "rejected"})  # no reason given
    assert resp.status_code == 422 and "motif est requis" in resp.text
    resp = await client.post(link, data={"action": "supprimer"})
    assert resp.status_code == 422 and "Action inconnue" in resp.text
    assert await count(session, "signalement_event") == events
    resp = await client.post(link, data={"action": "resolved", "note": "Nettoyé ce matin."})
    assert resp.status_code == 200 and "Répondre" not in resp.text
    replay = await client.post(link, data={"action": "acknowledged"})
    assert replay.status_code == 409 and "clos" in replay.text
    assert await count(session, "signalement_event") == events + 1


async def test_tampered_expired_or_foreign_links_are_refused(client, session, settings):
    await make_testville(session)
    ticket = (await new_ticket(client, *POINT, code="proprete"))["id"]
    secret = settings.secret_key
    good = sign(secret, ticket, MAIRIE)
    other_ticket = good.replace(f"{ticket}.", f"{ticket + 1}.", 1)
    for token in (other_ticket, good[:-2] + "xx", sign("autre-secret", ticket, MAIRIE), "abc"):
        resp = await client.post(f"/suivi-mairie/{token}", data={"action": "acknowledged"})
        assert resp.status_code == 403 and "invalide" in resp.text, token
    old = sign(secret, ticket, MAIRIE, now=datetime.now(UTC) - timedelta(days=31))
    resp = await client.get(f"/suivi-mairie/{old}")
    assert resp.status_code == 410 and "a expiré" in resp.text
    foreign = sign(secret, ticket, "quelquun@ailleurs.example")
    resp = await client.post(f"/suivi-mairie/{foreign}", data={"action": "acknowledged"})
    assert resp.status_code == 403 and "un autre service" in resp.text
    state = (await session.execute(text("SELECT state FROM signalement WHERE id = :id"),
                                   {"id": ticket})).scalar_one()  # fmt: skip
    assert state == "routed"


async def test_follow_link_lifetime_is_a_setting(client, session, smtp_settings, smtp):
    """CARTO_FOLLOW_LINK_DAYS: the e-mail says how long, and the token expires then."""
    await make_testville(session)
    ticket = (await new_ticket(client, *POINT, code="proprete"))["id"]
    short = smtp_settings.model_copy(update={"follow_link_days": 3})
    link = await _link_by_email(session, short, smtp, ticket)
    body = smtp[0].messages[0].get_payload(decode=True).decode()
    assert "valable 3 jours" in body
    claim = verify(short.secret_key, link.rsplit("/", 1)[1])
    left = claim.expires_at - datetime.now(UTC)
    assert timedelta(days=2, hours=23) < left <= timedelta(days=3)
    later = datetime.now(UTC) + timedelta(days=4)
    resp = await client.get(link)
    assert resp.status_code == 200
    with pytest.raises(LinkExpired):
        verify(short.secret_key, link.rsplit("/", 1)[1], now=later)
