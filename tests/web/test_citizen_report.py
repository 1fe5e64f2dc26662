"""A citizen files a report with a photo and sees its reference; an agent handles it
and the citizen's public page shows each step."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import ROUBAIX, map_ready, open_menu, sign_in
from tests.web.helpers import file_report, get_json, png_bytes, token


def test_citizen_files_a_report_with_a_photo(page: Page, live_server: str, tmp_path: Path) -> None:
    photo = tmp_path / "depot.png"
    photo.write_bytes(png_bytes())
    page.goto("/")
    map_ready(page)
    page.get_by_role("button", name="Ma position").click()
    expect(page.get_by_text("Lieu choisi")).to_be_visible()
    page.get_by_text("Propreté, dépôt sauvage, tags").click()
    preview = page.get_by_test_id("routing-preview")
    expect(preview).to_contain_text("Roubaix")
    expect(preview).to_contain_text("Propreté urbaine")
    expect(preview).to_contain_text("compétence communale")
    page.get_by_label("Description").fill("Dépôt sauvage de cartons devant le n° 12.")
    page.get_by_label("Photo (facultative)").set_input_files(str(photo))
    expect(page.get_by_text("Photo jointe.")).to_be_visible()
    page.get_by_label("Votre e-mail (facultatif)").fill("habitant@example.org")
    page.get_by_role("button", name="Envoyer le signalement").click()

    reference = page.get_by_test_id("reference")
    expect(reference).to_have_text(re.compile(r"n° \S+"))
    follow = page.get_by_role("link", name="Suivre ce signalement")
    href = follow.get_attribute("href")
    assert href and href.startswith("/suivi/")
    report_id = href.rsplit("/", 1)[1]

    public = get_json(live_server, f"/api/v1/signalements/{report_id}")
    assert public["service_code"] == "proprete"
    assert "habitant@example.org" not in str(public)  # the public view has no personal data
    lon, lat = public["location"]["coordinates"]
    assert abs(lon - ROUBAIX[0]) < 1e-4 and abs(lat - ROUBAIX[1]) < 1e-4

    follow.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(report_id)
    expect(page.get_by_role("img", name="Photo jointe au signalement")).to_be_visible()
    expect(page.get_by_test_id("state")).not_to_be_empty()


def test_report_without_place_is_not_sent(page: Page, live_server: str) -> None:
    page.goto("/signaler")
    map_ready(page)
    page.get_by_label("Description").fill("Sans lieu")
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(page.get_by_role("alert")).to_contain_text("Choisissez le lieu")
    expect(page.get_by_test_id("reference")).to_have_count(0)


def test_agent_acknowledges_and_resolves_then_citizen_sees_both(
    browser: Browser, page: Page, live_server: str
) -> None:
    report_id = file_report(
        live_server, ROUBAIX[0] + 0.001, ROUBAIX[1], "proprete", "Tags sur le mur de l'école."
    )
    sign_in(page, "agent.proprete.roubaix@demo.local")
    expect(page).to_have_url(re.compile(r"/agent$"))
    page.get_by_role("link", name=f"n° {report_id}", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(report_id)

    for state, note in (
        ("acknowledged", "Bien reçu, une équipe passera cette semaine."),
        ("resolved", "Tags effacés le matin même."),
    ):
        page.get_by_label("Nouvel état").select_option(state)
        page.get_by_label("Note publique").fill(note)
        page.get_by_role("button", name="Appliquer").click()
        expect(page.locator(f'.timeline li[data-state="{state}"]')).to_contain_text(note)

    citizen = browser.new_context(base_url=live_server, locale="fr-FR")
    try:
        view = citizen.new_page()
        view.goto(f"/suivi/{report_id}")
        timeline = view.get_by_test_id("timeline")
        expect(timeline.locator('li[data-state="acknowledged"]')).to_contain_text("Bien reçu")
        expect(timeline.locator('li[data-state="resolved"]')).to_contain_text("Tags effacés")
        expect(view.get_by_test_id("state")).to_have_text("Résolu")
    finally:
        citizen.close()
    history = get_json(live_server, f"/api/v1/signalements/{report_id}")["history"]
    states = [h["state"] for h in history]
    assert states.index("acknowledged") < states.index("resolved")


def test_signed_in_citizen_finds_the_report_in_mes_signalements(
    page: Page, live_server: str
) -> None:
    bearer = token(live_server, "citoyen@demo.local")
    report_id = file_report(
        live_server, ROUBAIX[0], ROUBAIX[1] + 0.001, "eclairage", "Lampadaire éteint.", bearer
    )
    sign_in(page, "citoyen@demo.local")
    open_menu(page)
    page.get_by_role("link", name="Mes signalements").click()
    mine = page.get_by_role("link", name=re.compile(rf"^n° {report_id} — "))
    expect(mine).to_contain_text("Éclairage public")
    mine.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(report_id)
