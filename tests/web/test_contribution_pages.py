"""Issue 21, concertation side, in the browser: the layers a citizen must see before
placing a point, a page per contribution, the searchable list (state in the URL),
comment reports and hiding, one's own vote, and a keyboard-only contribution."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.web.conftest import map_ready, sign_in
from tests.web.helpers import get_json, token
from tests.web.test_accessibility import serious_violations

PLU, TREES = "plu-de-la-mel", "planter-un-arbre-a-lyon"
LIST = f"/api/v1/concertations/{PLU}/contributions"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def centre_map(page: Page, lon: float, lat: float) -> None:
    page.evaluate(f"window.cartoMap.map.jumpTo({{center: [{lon}, {lat}], zoom: 17}})")


def create(base: str, bearer: str, title: str) -> int:
    resp = httpx.post(
        f"{base}/api/v1/concertations/{PLU}/contributions",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [3.0632, 50.6369]},
            "properties": {
                "title": title,
                "body": "Pour les tests.",
                "theme": "mobilites",
                "kind": "proposition",
            },
        },  # fmt: skip
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def test_constraint_layers_are_drawn_explained_and_named_in_the_refusal(
    page: Page, live_server: str
) -> None:
    page.set_viewport_size(DESKTOP)
    detail = get_json(live_server, f"/api/v1/concertations/{TREES}")
    trees = next(lay for lay in detail["reference_layers"] if lay["slug"] == "arbres-existants")
    tree = get_json(live_server, f"/api/v1/reference-layers/{trees['id']}/features", limit=1)
    lon, lat = tree["features"][0]["geometry"]["coordinates"]
    sign_in(page, "citoyen@demo.local")
    page.goto(f"/concertations/{TREES}")
    map_ready(page)
    legend = page.get_by_role("region", name="Couches sur la carte")
    expect(legend).to_contain_text("Arbres existants (démo)")
    drawn = page.evaluate(f"window.cartoMap.map.getSource('ref-{trees['id']}')?.serialize().data")
    assert len(drawn["features"]) == trees["features"]

    page.get_by_role("button", name="Ajouter une contribution").click()
    notice = page.locator("#constraint-notice")
    expect(notice).to_be_focused()  # read before the draw tool
    expect(notice).to_contain_text("à au moins 5 m de tout élément de la couche « Arbres existants")
    centre_map(page, lon, lat)
    page.get_by_role("button", name="Ajouter le centre de la carte").click()
    page.get_by_label("Titre").fill("Un arbre sur un arbre")
    page.get_by_role("button", name="Publier la contribution").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Voyez la couche « Arbres existants (démo) » dessinée sur la carte"
    )


def answered_with_comments(base: str) -> dict[str, Any]:
    items = get_json(base, LIST, sort="answered", answered="true", limit=200)["features"]
    return next(f for f in items if f["properties"]["comments"] > 0)


def test_contribution_page_on_a_phone(page: Page, live_server: str) -> None:
    page.set_viewport_size(PHONE)
    item = answered_with_comments(live_server)
    page.goto(f"/concertations/{PLU}/contributions/{item['id']}")
    map_ready(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(item["properties"]["title"])
    expect(page.get_by_test_id("answer")).to_contain_text(item["properties"]["answer"]["label"])
    count = item["properties"]["comments"]
    expect(page.get_by_role("heading", name=f"Commentaires ({count})")).to_be_visible()
    expect(page.locator(".comments-box li").first).to_be_visible()
    votes_for = item["properties"]["votes_for"]
    expect(page.locator('button[data-vote="1"]')).to_contain_text(f"Pour ({votes_for})")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    centre = page.evaluate("window.cartoMap.map.getCenter().toArray()")
    lon, lat = item["geometry"]["coordinates"] if item["geometry"]["type"] == "Point" else centre
    assert abs(centre[0] - lon) < 1e-3 and abs(centre[1] - lat) < 1e-3
    assert serious_violations(page) == []
    page.get_by_role("link", name="Toutes les contributions de la concertation").click()
    expect(page).to_have_url(f"{live_server}/concertations/{PLU}")


def test_list_search_sort_and_pages_live_in_the_url(page: Page, live_server: str) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(f"/concertations/{PLU}")
    map_ready(page)
    page.get_by_label("Trier par").select_option(label="Les plus soutenues")
    expect(page).to_have_url(f"{live_server}/concertations/{PLU}?tri=soutenues")
    ranked = get_json(live_server, LIST, sort="supported", limit=40)
    cards = page.locator("article.contribution")
    expect(cards.first).to_have_attribute("data-id", str(ranked["features"][0]["id"]))
    page.get_by_role("link", name="Page suivante").click()
    expect(page).to_have_url(f"{live_server}/concertations/{PLU}?tri=soutenues&page=2")
    expect(cards.first).to_have_attribute("data-id", str(ranked["features"][20]["id"]))
    page.reload()
    expect(cards.first).to_have_attribute("data-id", str(ranked["features"][20]["id"]))
    expect(page.get_by_text(f"Page 2 sur {-(-ranked['number_matched'] // 20)}")).to_be_visible()
    assert serious_violations(page) == []

    word = ranked["features"][0]["properties"]["title"].split()[-1]
    found = get_json(live_server, LIST, q=word, theme="mobilites", limit=1)
    page.get_by_label("Thème").select_option("mobilites")
    page.get_by_label("Rechercher", exact=True).fill(word)
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(
        page.get_by_role("heading", name=f"Contributions ({found['number_matched']})")
    ).to_be_visible()
    assert "theme=mobilites" in page.url and "page=" not in page.url
    first = found["features"][0]
    page.get_by_role("link", name=first["properties"]["title"]).first.click()
    expect(page).to_have_url(f"{live_server}/concertations/{PLU}/contributions/{first['id']}")

    # the synthesis's « Les plus soutenues » land on the contribution's own page
    page.goto(f"/concertations/{PLU}/synthese")
    synthesis = get_json(live_server, f"/api/v1/concertations/{PLU}/synthesis")
    top = synthesis["most_supported"][0]
    page.get_by_role("link", name=top["title"]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(top["title"])
    expect(page).to_have_url(f"{live_server}/concertations/{PLU}/contributions/{top['id']}")


def test_comments_count_report_and_moderator_hides_with_a_public_reason(
    page: Page, live_server: str
) -> None:
    page.set_viewport_size(DESKTOP)
    target = create(live_server, token(live_server, "participant.02@demo.local"), "Un banc ici")
    sign_in(page, "citoyen@demo.local")
    page.goto(f"/concertations/{PLU}/contributions/{target}")
    expect(page.get_by_role("heading", name="Commentaires (0)")).to_be_visible()
    page.get_by_label("Votre commentaire").fill("Un commentaire à signaler.")
    page.get_by_role("button", name="Publier le commentaire").click()
    expect(page.get_by_role("heading", name="Commentaires (1)")).to_be_visible()
    comment = page.locator(".comments li").first
    comment.get_by_text("Signaler un abus").click()
    comment.get_by_label("Pourquoi ce commentaire pose-t-il problème ?").fill("Hors sujet")
    comment.get_by_role("button", name="Envoyer le signalement d'abus").click()
    expect(comment.get_by_text("Merci : la modération va l'examiner.")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, "moderateur@demo.local")
    page.goto(f"/concertations/{PLU}?q=Un+banc+ici")
    card = page.locator(f"#contribution-{target}")
    card.get_by_text("Commentaires (1)").click()
    card.get_by_text("Masquer ce commentaire").click()
    card.get_by_label("Motif public du masquage").fill("Propos hors sujet")
    card.get_by_role("button", name="Masquer le commentaire").click()
    expect(
        card.get_by_text("Commentaire masqué par la modération : Propos hors sujet")
    ).to_be_visible()
    page.context.clear_cookies()
    page.goto(f"/concertations/{PLU}/contributions/{target}")
    expect(
        page.get_by_text("Commentaire masqué par la modération : Propos hors sujet")
    ).to_be_visible()


def test_own_vote_after_reload_and_none_on_ones_own(page: Page, live_server: str) -> None:
    page.set_viewport_size(DESKTOP)
    citizen = token(live_server, "citoyen@demo.local")
    own = create(live_server, citizen, "Ma propre proposition")
    other = create(live_server, token(live_server, "participant.05@demo.local"), "Une autre idée")
    sign_in(page, "citoyen@demo.local")
    page.goto(f"/concertations/{PLU}/contributions/{other}")
    page.locator('button[data-vote="-1"]').click()
    expect(page.get_by_text("Vote enregistré.")).to_be_visible()
    page.reload()
    expect(page.locator('button[data-vote="-1"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator('button[data-vote="1"]')).to_have_attribute("aria-pressed", "false")
    page.goto(f"/concertations/{PLU}/contributions/{own}")
    expect(page.get_by_text("c'est votre contribution")).to_be_visible()
    expect(page.locator("button[data-vote]")).to_have_count(0)


def focus_label(page: Page) -> str:
    return str(
        page.evaluate(
            "() => { const e = document.activeElement; return (e.getAttribute('aria-label') "
            "|| e.labels?.[0]?.textContent || e.textContent || '').trim() }"
        )
    )


def tab_to(page: Page, label: str) -> None:
    for _ in range(60):
        page.keyboard.press("Tab")
        if focus_label(page).startswith(label):
            return
    raise AssertionError(f"{label!r} never got the focus")


def test_keyboard_only_contribution(page: Page, live_server: str) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, "citoyen@demo.local")
    page.goto(f"/concertations/{PLU}")
    map_ready(page)
    centre_map(page, 3.0632, 50.6369)  # where the visitor looks; everything else by keys
    tab_to(page, "Ajouter une contribution")
    page.keyboard.press("Enter")
    tab_to(page, "Ajouter le centre de la carte")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Point placé")).to_be_visible()
    tab_to(page, "Titre")
    page.keyboard.type("Au clavier seulement")
    tab_to(page, "Votre contribution")
    page.keyboard.type("Sans souris.")
    tab_to(page, "Publier la contribution")
    page.keyboard.press("Enter")
    done = page.get_by_text("Merci : votre contribution est publiée.")
    expect(done).to_be_focused()
    found = get_json(live_server, LIST, q="Au clavier seulement")
    assert found["number_matched"] == 1
