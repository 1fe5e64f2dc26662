"""A citizen contributes inside the perimeter (and is refused outside); a vote counts once."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import map_ready, sign_in
from tests.web.helpers import concertation, contributions

PLU = "PLU de la MEL"
LILLE_CENTRE = (3.0632, 50.6369)
LYON_CENTRE = (4.8357, 45.7640)


def open_concertation(page: Page, title: str) -> None:
    page.goto("/concertations")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    map_ready(page)


def centre_map(page: Page, lon: float, lat: float) -> None:
    page.evaluate(f"window.cartoMap.map.jumpTo({{center: [{lon}, {lat}], zoom: 15}})")


def test_contribution_inside_perimeter_is_published_and_outside_refused(
    page: Page, live_server: str
) -> None:
    plu = concertation(live_server, PLU)
    before = len(contributions(live_server, plu["id"]))
    sign_in(page, "citoyen@demo.local")
    open_concertation(page, PLU)

    page.get_by_role("button", name="Ajouter une contribution").click()
    centre_map(page, *LYON_CENTRE)
    page.get_by_role("button", name="Ajouter le centre de la carte").click()
    expect(page.get_by_text("Point placé")).to_be_visible()
    page.get_by_label("Titre").fill("Une piste cyclable rue Nationale")
    page.get_by_label("Votre contribution").fill("Relier la gare au Vieux-Lille à vélo.")
    page.get_by_role("button", name="Publier la contribution").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert len(contributions(live_server, plu["id"])) == before

    centre_map(page, *LILLE_CENTRE)
    page.get_by_role("button", name="Ajouter le centre de la carte").click()
    page.get_by_role("button", name="Publier la contribution").click()
    expect(page.get_by_text("Merci : votre contribution est publiée.")).to_be_visible()
    expect(page.get_by_role("heading", name="Une piste cyclable rue Nationale")).to_be_visible()
    after = contributions(live_server, plu["id"])
    assert len(after) == before + 1
    mine = next(c for c in after if c["properties"]["title"] == "Une piste cyclable rue Nationale")
    lon, lat = mine["geometry"]["coordinates"]
    assert abs(lon - LILLE_CENTRE[0]) < 1e-3 and abs(lat - LILLE_CENTRE[1]) < 1e-3


def test_a_vote_counts_once(page: Page, live_server: str) -> None:
    plu = concertation(live_server, PLU)
    sign_in(page, "citoyen@demo.local")
    open_concertation(page, PLU)
    # one the citizen may vote on and has not voted on yet (their votes show as pressed)
    card = page.locator('article.contribution:has(button[data-vote="1"]:not([aria-pressed]))').first
    target_id = int(card.get_attribute("data-id") or 0)
    card = page.locator(f"#contribution-{target_id}")  # pinned: once voted it no longer matches
    target = next(c for c in contributions(live_server, plu["id"]) if c["id"] == target_id)
    votes_for = target["properties"]["votes_for"]
    votes_against = target["properties"]["votes_against"]

    pour = card.locator('button[data-vote="1"]')
    contre = card.locator('button[data-vote="-1"]')
    pour.click()
    expect(pour).to_have_attribute("aria-pressed", "true")
    pour.click()
    expect(pour).to_contain_text(f"Pour ({votes_for + 1})")

    def current() -> dict[str, int]:
        found = next(c for c in contributions(live_server, plu["id"]) if c["id"] == target_id)
        return found["properties"]  # type: ignore[no-any-return]

    assert current()["votes_for"] == votes_for + 1
    contre.click()  # a second vote replaces the first
    expect(contre).to_contain_text(f"Contre ({votes_against + 1})")
    expect(pour).to_contain_text(f"Pour ({votes_for})")
    after = current()
    assert (after["votes_for"], after["votes_against"]) == (votes_for, votes_against + 1)


def test_anonymous_visitor_is_asked_to_sign_in_to_contribute(page: Page, live_server: str) -> None:
    open_concertation(page, PLU)
    expect(page.get_by_role("link", name="Se connecter pour contribuer")).to_be_visible()
    expect(page.get_by_role("button", name="Ajouter une contribution")).to_have_count(0)
