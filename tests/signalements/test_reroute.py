"""Bulk re-routing after a rule change: a preview that writes nothing, then each moved
ticket carries the new whole decision and a transfer event; the CLI does the same."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from carto.cli import app
from carto.settings import get_settings
from tests.conftest import login
from tests.signalements.conftest import count, new_ticket

RULE = {"category": "voirie", "level": "commune", "scope_kind": "commune", "scope_code": "59512",
        "note": "Voirie de Roubaix reprise par la commune (test)"}  # fmt: skip


async def test_rule_change_previews_then_reroutes_open_tickets(client, session):
    ticket = (await new_ticket(client, code="voirie"))["id"]  # Roubaix: MEL's voirie
    roubaix = int((await session.execute(text(
        "INSERT INTO service (authority_id, slug, name) SELECT id, 'voirie', 'Voirie de Roubaix' "
        "FROM authority WHERE kind = 'commune' AND code = '59512' "
        "ON CONFLICT (authority_id, slug) DO UPDATE SET name = EXCLUDED.name RETURNING id"
    ))).scalar_one())  # fmt: skip
    admin = await login(client, "admin@demo.local")
    rule = (await client.post("/api/v1/admin/competences", json=RULE, headers=admin)).json()["id"]
    url = f"/api/v1/admin/competences/{rule}/reroute"
    citizen = await login(client, "citoyen@demo.local")
    assert (await client.get(url, headers=citizen)).status_code == 403
    events = await count(session, "signalement_event")
    preview = (await client.get(url, headers=admin)).json()
    moved = {i["id"]: i for i in preview["items"]}
    assert preview["applied"] is False and preview["count"] >= 1
    assert moved[ticket]["to_service_id"] == roubaix and "Roubaix" in moved[ticket]["to_service"]
    assert await count(session, "signalement_event") == events  # a preview writes nothing
    done = (await client.post(url, headers=admin)).json()
    assert done["applied"] is True and done["count"] == preview["count"]
    row = (await session.execute(text(
        "SELECT s.service_id, s.rule_id, s.explanation, e.internal_note FROM signalement s "
        "JOIN signalement_event e ON e.signalement_id = s.id AND e.kind = 'transfer' "
        "WHERE s.id = :id"), {"id": ticket})).one()  # fmt: skip
    assert (row.service_id, row.rule_id) == (roubaix, rule)
    assert "compétence communale" in row.explanation
    assert row.internal_note == f"Réacheminement groupé après la règle n° {rule}."
    again = (await client.get(url, headers=admin)).json()
    assert ticket not in [i["id"] for i in again["items"]]


@pytest.fixture
def cli_env(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CARTO_DATABASE_URL", demo_db)
    get_settings.cache_clear()
    yield demo_db
    get_settings.cache_clear()


def test_cli_previews_and_refuses_an_unknown_rule(cli_env):
    runner = CliRunner()
    unknown = runner.invoke(app, ["reroute", "999999"])
    assert unknown.exit_code == 2 and "introuvable" in unknown.output
    preview = runner.invoke(app, ["reroute", "1"])
    assert preview.exit_code == 0, preview.output
    assert "à réacheminer (aperçu" in preview.output
