"""Finding 6: contact details typed into a report's description were published word for word.

Over HTTP on the served app: every public reading (native API, Open311 list and item,
nearby) shows them masked; the ticket's own service sees the text as typed; what only
looks like a number (dates, road numbers, postcodes, house numbers) stays as it is.
"""

from __future__ import annotations

import httpx

from tests.security.conftest import bearer

ROUBAIX = {"lat": 50.6916, "lon": 3.1779, "service_code": "proprete"}
PHONES = ("06 12 34 56 78", "+33 6 12 34 56 78", "06.12.34.56.78")
EMAIL = "jean.dupont@example.fr"
KEPT = ("15 rue Nationale", "59000", "D 917", "12/03/2026")
DESCRIPTION = (
    f"Appelez le {PHONES[0]}, le {PHONES[1]} ou le {PHONES[2]}, ou {EMAIL} : "
    "dépôt sauvage devant le 15 rue Nationale, 59000 Roubaix, près de la D 917, le 12/03/2026."
)


def _assert_masked(text: str) -> None:
    for secret in (*PHONES, EMAIL, "dupont"):
        assert secret not in text, text
    assert text.count("[numéro masqué]") == 3, text
    assert "[adresse e-mail masquée]" in text, text
    for kept in KEPT:
        assert kept in text, text


def test_public_readings_mask_contacts_and_staff_see_them(http: httpx.Client) -> None:
    created = http.post("/api/v1/signalements", json={**ROUBAIX, "description": DESCRIPTION})
    assert created.status_code == 201, created.text
    ref = created.json()["id"]
    _assert_masked(created.json()["description"])

    _assert_masked(http.get(f"/api/v1/signalements/{ref}").json()["description"])
    item = http.get(f"/open311/v2/requests/{ref}.json")
    assert item.status_code == 200, item.text
    _assert_masked(item.json()[0]["description"])
    listed = http.get("/open311/v2/requests.json", params={"service_code": "proprete"})
    mine = [r for r in listed.json() if r["service_request_id"] == str(ref)]
    assert len(mine) == 1
    _assert_masked(mine[0]["description"])
    near = http.get(
        "/api/v1/signalements/nearby",
        params={"lon": ROUBAIX["lon"], "lat": ROUBAIX["lat"], "service_code": "proprete"},
    )
    summaries = [n["summary"] for n in near.json() if n["id"] == ref]
    assert len(summaries) == 1
    assert not any(p in summaries[0] for p in PHONES) and EMAIL not in summaries[0]
    assert summaries[0].startswith("Appelez le [numéro masqué]")

    # Another authority's agent reads the public page; the ticket's service, the original.
    other = http.get(
        f"/api/v1/signalements/{ref}", headers=bearer(http, "agent.voirie.mel@demo.local")
    )
    _assert_masked(other.json()["description"])
    staff = http.get(
        f"/api/v1/signalements/{ref}", headers=bearer(http, "agent.proprete.roubaix@demo.local")
    )
    assert staff.status_code == 200 and "reporter" in staff.json()
    assert staff.json()["description"] == DESCRIPTION


def test_open311_intake_masks_too(http: httpx.Client) -> None:
    body = {"lat": ROUBAIX["lat"], "long": ROUBAIX["lon"], "service_code": "proprete",
            "description": DESCRIPTION}  # fmt: skip
    created = http.post("/open311/v2/requests.json", data=body)
    assert created.status_code == 201, created.text
    ref = created.json()[0]["service_request_id"]
    _assert_masked(http.get(f"/open311/v2/requests/{ref}.json").json()[0]["description"])


def test_plain_numbers_are_not_masked(http: httpx.Client) -> None:
    text = (
        "Lampadaire n° 4521 éteint au 120 avenue Jean Lebas, 59100 Roubaix (RD 700), "
        "depuis le 01/12/2026 à 07 h 30."
    )
    created = http.post("/api/v1/signalements", json={**ROUBAIX, "description": text})
    assert created.status_code == 201, created.text
    assert created.json()["description"] == text
