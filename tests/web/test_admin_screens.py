"""Staff screens end to end: an administrator creates a concertation with a theme and a
competence rule (then a new version of it); a moderator hides a reported contribution
from the queue; a citizen reopens their resolved report. axe-core on every new screen."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.web.conftest import ROUBAIX, map_ready, open_menu, sign_in
from tests.web.helpers import concertation, contributions, file_report, get_json, token
from tests.web.test_accessibility import serious_violations

TITLE = "Aménager les berges du canal"


def test_admin_creates_a_concertation_with_a_theme(page: Page, live_server: str) -> None:
    sign_in(page, "admin@demo.local")
    open_menu(page)
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    assert serious_violations(page) == []
    page.locator("#panel").get_by_role("link", name="Concertations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administrer les concertations")
    form = page.locator("form", has=page.get_by_role("heading", name="Nouvelle concertation"))
    form.get_by_label("Titre").fill(TITLE)
    form.get_by_label("Description").fill("Où se promener, où s'asseoir, où planter ?")
    form.get_by_label("Roubaix").check()
    form.get_by_label("Libellé du thème").fill("Promenade")
    form.get_by_role("button", name="Ajouter un thème").click()
    form.get_by_label("Libellé du thème").nth(1).fill("Mobilier")
    assert serious_violations(page) == []
    form.get_by_role("button", name="Créer la concertation").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_text("Concertation créée.")).to_be_visible()
    made = concertation(live_server, TITLE)
    assert [t["label"] for t in made["themes"]] == ["Promenade", "Mobilier"]
    assert made["status"] == "ouverte" and made["perimeter"]["type"] == "MultiPolygon"
    assert serious_violations(page) == []

    # Edit the themes: rename one, the slug stays (its contributions keep their theme).
    themes = page.locator("form", has=page.get_by_role("heading", name="Thèmes"))
    themes.get_by_label("Libellé du thème").first.fill("Promenade et pique-nique")
    themes.get_by_role("button", name="Enregistrer les thèmes").click()
    expect(page.get_by_text("Modifications enregistrées.")).to_be_visible()
    edited = concertation(live_server, TITLE)
    assert [(t["slug"], t["label"]) for t in edited["themes"]] == [
        ("promenade", "Promenade et pique-nique"),
        ("mobilier", "Mobilier"),
    ]

    # A reference layer uploaded through the form.
    layer = page.locator("form", has=page.get_by_role("heading", name="Ajouter une couche"))
    layer.get_by_label("Fichier").set_input_files(
        files=[{"name": "bancs.geojson", "mimeType": "application/geo+json", "buffer": BANCS}]
    )
    layer.get_by_label("Titre de la couche").fill("Bancs existants")
    layer.get_by_role("button", name="Téléverser la couche").click()
    expect(page.get_by_text("Couche ajoutée (2 objets).")).to_be_visible()
    expect(page.get_by_test_id("reference-layers")).to_contain_text("Bancs existants")


BANCS = (
    b'{"type":"FeatureCollection","features":['
    b'{"type":"Feature","properties":{"nom":"banc 1"},'
    b'"geometry":{"type":"Point","coordinates":[3.1746,50.6901]}},'
    b'{"type":"Feature","properties":{"nom":"banc 2"},'
    b'"geometry":{"type":"Point","coordinates":[3.1750,50.6905]}}]}'
)


def rules(base: str, bearer: str) -> list[dict]:  # type: ignore[type-arg]
    return list(get_json(base, "/api/v1/admin/competences", bearer, include_closed=True))


def test_admin_adds_a_competence_rule_then_a_new_version(page: Page, live_server: str) -> None:
    admin = token(live_server, "admin@demo.local")
    before = {r["id"] for r in rules(live_server, admin)}
    page.on("dialog", lambda d: d.accept())
    sign_in(page, "admin@demo.local")
    page.goto("/admin/competences")
    expect(page.get_by_role("heading", level=1)).to_have_text("Table des compétences")
    form = page.locator("form", has=page.get_by_role("heading", name="Nouvelle règle"))
    form.get_by_label("Catégorie").select_option("mobilier")
    form.get_by_label("Portée").select_option("commune")
    form.get_by_label("Code du territoire").fill("59512")
    form.get_by_label("Niveau compétent").select_option("intercommunalite")
    form.get_by_label("Service (identifiant)").fill("voirie")
    form.get_by_label("Note (motif du changement)").fill("Convention de gestion 2026")
    form.get_by_role("button", name="Ajouter la règle").click()
    expect(page.get_by_text("ajoutée.")).to_be_visible()
    (new,) = [r for r in rules(live_server, admin) if r["id"] not in before]
    assert (new["category"], new["scope_code"], new["level"], new["service_slug"]) == (
        "mobilier", "59512", "intercommunalite", "voirie",
    )  # fmt: skip
    assert serious_violations(page) == []

    # Filters narrow the table to the rule; an edit makes a new version.
    page.get_by_label("Territoire (code ou nom)").fill("59512")
    page.get_by_label("Catégorie").first.select_option("mobilier")
    page.get_by_role("button", name="Filtrer").click()
    row = page.locator(f"tr[data-rule='{new['id']}']")
    expect(row).to_contain_text("En vigueur")
    row.get_by_role("button", name="Modifier").click()
    edit = page.locator(
        "form", has=page.get_by_role("heading", name=f"Modifier la règle n° {new['id']}")
    )
    edit.get_by_label("Niveau compétent").select_option("commune")
    edit.get_by_label("Service (identifiant)").fill("mobilier")
    edit.get_by_role("button", name="Enregistrer une nouvelle version").click()
    expect(page.get_by_text(f"elle remplace la règle n° {new['id']}")).to_be_visible()
    page.get_by_label("Afficher les versions closes").check()
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator(f"tr[data-rule='{new['id']}']")).to_contain_text("Close")
    version = [r for r in rules(live_server, admin) if r["replaces_id"] == new["id"]]
    assert len(version) == 1 and version[0]["level"] == "commune" and version[0]["active"]
    later = page.locator(f"tr[data-rule='{version[0]['id']}']")
    expect(later).to_contain_text(f"remplace n° {new['id']}")
    assert serious_violations(page) == []
    # Withdraw it: Roubaix's street furniture goes back to the demo's rule.
    later.get_by_role("button", name="Retirer").click()
    expect(page.get_by_text(f"Règle n° {version[0]['id']} retirée.")).to_be_visible()
    assert not any(r["active"] for r in rules(live_server, admin) if r["id"] not in before)


def test_admin_services_screen_creates_and_edits(page: Page, live_server: str) -> None:
    sign_in(page, "admin@demo.local")
    page.goto("/admin/services")
    expect(page.get_by_role("heading", level=1)).to_have_text("Services")
    assert serious_violations(page) == []
    form = page.locator("form", has=page.get_by_role("heading", name="Nouveau service"))
    form.get_by_label("Collectivité").select_option(label="Roubaix")
    form.get_by_label("Nom du service").fill("Fêtes et marchés")
    form.get_by_label("E-mail de réception").fill("marches@roubaix.example")
    form.get_by_role("button", name="Créer le service").click()
    expect(page.get_by_text("Service enregistré.")).to_be_visible()
    page.get_by_role("button", name="Modifier Fêtes et marchés (Roubaix)").click()
    edit = page.locator(
        "form", has=page.get_by_role("heading", name="Modifier « Fêtes et marchés »")
    )
    edit.get_by_label("Nom du service").fill("Fêtes, foires et marchés")
    edit.get_by_role("button", name="Enregistrer").click()
    # Renamed; the slug the competence rules cite stays.
    expect(
        page.get_by_role("cell", name="Fêtes, foires et marchés fetes-et-marches")
    ).to_be_visible()


def test_moderator_hides_a_reported_contribution(page: Page, live_server: str) -> None:
    plu = concertation(live_server, "PLU de la MEL")
    target = contributions(live_server, plu["id"])[0]
    citizen = token(live_server, "citoyen@demo.local")
    resp = httpx.post(
        f"{live_server}/api/v1/contributions/{target['id']}/reports",
        json={"reason": "Propos insultants envers un voisin."},
        headers={"Authorization": f"Bearer {citizen}"},
    )
    assert resp.status_code in (200, 201), resp.text
    sign_in(page, "moderateur@demo.local")
    open_menu(page)
    page.get_by_role("link", name="Modération").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modération")
    assert serious_violations(page) == []
    card = page.locator(f"article[data-id='{target['id']}'][data-target='contribution']").first
    expect(card).to_contain_text("Propos insultants")
    card.get_by_label("Motif public").fill("Propos injurieux (charte de participation).")
    card.get_by_role("button", name="Masquer").click()
    expect(page.get_by_text("Masqué :")).to_be_visible()
    assert target["id"] not in {c["id"] for c in contributions(live_server, plu["id"])}
    page.goto("/concertations/plu-de-la-mel")
    expect(page.get_by_role("heading", level=2, name="Contributions")).to_be_visible()
    expect(page.locator(f"#contribution-{target['id']}")).to_have_count(0)


def test_citizen_reopens_a_resolved_report(page: Page, live_server: str) -> None:
    citizen = token(live_server, "citoyen@demo.local")
    report = file_report(live_server, *ROUBAIX, "proprete", "Tags sur la façade.", citizen)
    agent = token(live_server, "agent.proprete.roubaix@demo.local")
    resp = httpx.post(
        f"{live_server}/api/v1/signalements/{report}/transitions",
        json={"to": "resolved", "note": "Façade nettoyée."},
        headers={"Authorization": f"Bearer {agent}"},
    )
    assert resp.status_code == 200, resp.text
    sign_in(page, "citoyen@demo.local")
    open_menu(page)
    page.get_by_role("link", name="Mes signalements").click()
    item = page.locator("li.card", has=page.get_by_role("link", name=f"n° {report} —"))
    item.get_by_text("Le problème persiste ? Rouvrir").click()
    assert serious_violations(page) == []
    item.get_by_label("Ce qui ne va toujours pas").fill("Les tags sont revenus.")
    item.get_by_role("button", name=f"Rouvrir le signalement n° {report}").click()
    expect(page.get_by_text(f"Le signalement n° {report} est rouvert")).to_be_visible()
    assert get_json(live_server, f"/api/v1/signalements/{report}")["state"] == "reopened"
    page.goto(f"/suivi/{report}")
    map_ready(page)
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Rouvert")
    expect(timeline).to_contain_text("Les tags sont revenus.")
    # Someone else's resolved report offers no reopen action.
    other = file_report(live_server, *ROUBAIX, "proprete", "Dépôt sauvage.")
    httpx.post(
        f"{live_server}/api/v1/signalements/{other}/transitions",
        json={"to": "resolved", "note": "Enlevé."},
        headers={"Authorization": f"Bearer {agent}"},
    ).raise_for_status()
    page.goto(f"/suivi/{other}")
    expect(page.get_by_test_id("state")).to_have_text("Résolu")
    expect(page.get_by_text("Le problème persiste ? Rouvrir")).to_have_count(0)
