"""Issue 21, agent side, in Debian's Chromium: the transfer list limited to the services
that can take the ticket (grouped by authority, others through a search), no forms on
another service's ticket, the queue's sort kept in the URL, the state filter's real
default, no table cut off on a phone, and a transition with the keyboard only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import ROUBAIX, page_at, sign_in
from tests.web.helpers import file_report
from tests.web.test_accessibility import serious_violations

# Views wait for the map of a national deployment: on a busy 2-core machine that takes
# more than expect's 5 s default.
expect.set_options(timeout=15_000)
AGENT = "agent.proprete.roubaix@demo.local"
OTHER = "agent.proprete.tourcoing@demo.local"


@pytest.fixture
def desk(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from page_at(browser, live_server, 1280, 800)


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from page_at(browser, live_server, 390, 844)


def test_transfer_list_is_the_communes_and_intercommunalities_then_a_search(
    desk: Page, live_server: str
) -> None:
    report_id = file_report(live_server, ROUBAIX[0], ROUBAIX[1] + 0.0015, "proprete", "Sacs.")
    sign_in(desk, AGENT)
    desk.goto(f"/agent/signalements/{report_id}")
    select = desk.get_by_label("Service destinataire")
    expect(select.locator("optgroup").first).to_have_attribute(
        "label", "Roubaix (commune du signalement)"
    )
    labels = select.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert labels == [
        "Roubaix (commune du signalement)",
        "Métropole Européenne de Lille (intercommunalité)",
    ]
    assert 1 < select.locator("option").count() < 20  # not the 579 services
    desk.get_by_label("Autre service (recherche)").fill("Lyon")
    desk.get_by_role("button", name="Chercher").click()
    expect(select.locator("optgroup").first).to_have_attribute(
        "label", re.compile(r"Lyon.*autre collectivité")
    )
    assert serious_violations(desk) == []


def test_no_transition_forms_on_another_services_ticket(desk: Page, live_server: str) -> None:
    report_id = file_report(live_server, ROUBAIX[0], ROUBAIX[1] + 0.002, "proprete", "Tags.")
    sign_in(desk, OTHER)
    desk.goto(f"/agent/signalements/{report_id}")
    expect(desk.get_by_test_id("not-yours")).to_contain_text("Propreté urbaine, Roubaix")
    expect(desk.get_by_role("heading", name="Changer l'état")).to_have_count(0)
    expect(desk.get_by_role("button", name="Transférer")).to_have_count(0)


def test_queue_sort_in_the_url_and_the_state_filters_real_default(
    desk: Page, live_server: str
) -> None:
    file_report(live_server, ROUBAIX[0] + 0.001, ROUBAIX[1] + 0.001, "proprete", "Un.")
    file_report(live_server, ROUBAIX[0] + 0.0012, ROUBAIX[1] + 0.001, "proprete", "Deux.")
    sign_in(desk, AGENT)
    state = desk.get_by_label("État", exact=True)
    expect(state.locator("option:checked")).to_have_text("Ouverts (par défaut)")
    desk.get_by_label("Tri").select_option("newest")
    desk.get_by_role("button", name="Filtrer").click()
    expect(desk).to_have_url(re.compile(r"/agent\?sort=newest$"))
    links = desk.locator("table.queue tbody tr td:nth-child(2) a")
    ids: list[int] = []
    for _ in range(50):  # the queue re-renders after the URL changes: read it once drawn
        ids = [int(t[3:]) for t in links.all_inner_texts()]
        if len(ids) >= 2 and ids == sorted(ids, reverse=True):
            break
        desk.wait_for_timeout(200)
    assert len(ids) >= 2 and ids == sorted(ids, reverse=True)
    desk.reload()
    expect(desk.get_by_label("Tri").locator("option:checked")).to_have_text("Plus récents d'abord")
    desk.get_by_label("Tri").select_option("deadline")
    desk.get_by_role("button", name="Filtrer").click()
    expect(desk).to_have_url(re.compile(r"sort=deadline"))
    expect(desk.get_by_text("de l'échéance la plus proche")).to_be_visible()


def test_queue_fits_a_phone(phone: Page, live_server: str) -> None:
    file_report(live_server, ROUBAIX[0] + 0.0014, ROUBAIX[1] + 0.001, "proprete", "Trois.")
    sign_in(phone, AGENT)
    expect(phone.locator("table.queue tbody tr").first).to_be_visible()
    overflow = phone.evaluate(
        """() => {
            const cells = document.querySelectorAll('table.queue td, table.queue tr');
            const right = Math.max(...[...cells].map(e => e.getBoundingClientRect().right));
            return {page: document.documentElement.scrollWidth, right};
        }"""
    )
    assert overflow["page"] <= 390 and overflow["right"] <= 390, overflow
    assert serious_violations(phone) == []


def test_a_transition_with_the_keyboard_only(desk: Page, live_server: str) -> None:
    report_id = file_report(live_server, ROUBAIX[0], ROUBAIX[1] + 0.0025, "proprete", "Gravats.")
    sign_in(desk, AGENT)
    desk.goto(f"/agent/signalements/{report_id}")
    desk.get_by_role("heading", name="Changer l'état").wait_for()

    def tab_to(predicate: str, limit: int = 80) -> None:
        for _ in range(limit):
            desk.keyboard.press("Tab")
            if desk.evaluate(f"(el => !!({predicate}))(document.activeElement)"):
                return
        raise AssertionError(f"not reached with Tab: {predicate}")

    tab_to("el.name === 'to'")
    for _ in range(5):  # the keyboard picks "in_progress" in the select
        if desk.evaluate("document.activeElement.value") == "in_progress":
            break
        desk.keyboard.press("ArrowDown")
    assert desk.evaluate("document.activeElement.value") == "in_progress"
    tab_to("el.name === 'note'")
    desk.keyboard.type("Équipe en route.")
    tab_to("el.type === 'submit'")
    desk.keyboard.press("Enter")
    expect(desk.locator('.timeline li[data-state="in_progress"]')).to_contain_text(
        "Équipe en route."
    )
