"""Finding 11: a client that retries a report filed it twice (no idempotency key).

Over HTTP on the served app: with `Idempotency-Key`, the same key and body answer the
first answer again and store nothing new, also when both requests are in flight at
once; another body under the same key is 409; keys belong to their caller.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import httpx
import psycopg

from tests.security.conftest import bearer

ROUBAIX = {"lat": 50.6916, "lon": 3.1779, "service_code": "proprete"}
TREES = "planter-un-arbre-a-lyon"
BELLECOUR = (4.8357, 45.7640)


def _count(db: str, sql: str, marker: str) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute(sql, (f"%{marker}%",)).fetchone()
    assert row is not None
    return int(row[0])


def reports(db: str, marker: str) -> int:
    return _count(db, "SELECT count(*) FROM signalement WHERE description LIKE %s", marker)


def contributions(db: str, marker: str) -> int:
    return _count(db, "SELECT count(*) FROM contribution WHERE title LIKE %s", marker)


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_native_retry_answers_the_first_answer_and_stores_once(
    http: httpx.Client, demo_db: str
) -> None:
    marker = uuid.uuid4().hex
    body = {**ROUBAIX, "description": f"Banc cassé {marker}"}
    headers = key()
    first = http.post("/api/v1/signalements", json=body, headers=headers)
    again = http.post("/api/v1/signalements", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert reports(demo_db, marker) == 1

    other = http.post(
        "/api/v1/signalements", json={**body, "description": f"Autre {marker}"}, headers=headers
    )
    assert other.status_code == 409, other.text
    assert "clé d'idempotence" in other.json()["message"]
    assert reports(demo_db, marker) == 1

    # The same key from another caller (an account) is that caller's own key.
    signed = bearer(http, "citoyen@demo.local")
    theirs = http.post("/api/v1/signalements", json=body, headers={**headers, **signed})
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert reports(demo_db, marker) == 2

    # Without a key, a retry is a new report (as before).
    assert http.post("/api/v1/signalements", json=body).status_code == 201
    assert reports(demo_db, marker) == 3


def test_unusable_keys_are_400(http: httpx.Client, demo_db: str) -> None:
    marker = uuid.uuid4().hex
    body = {**ROUBAIX, "description": f"Clé invalide {marker}"}
    for bad in ("x" * 201, "a\tb", "cl\xe9".encode("latin-1")):
        resp = http.post("/api/v1/signalements", json=body, headers={"Idempotency-Key": bad})
        assert resp.status_code == 400, (bad, resp.text)
        assert "Idempotency-Key" in resp.json()["message"]
    assert reports(demo_db, marker) == 0


def _at_once(n: int, send: Callable[[httpx.Client], httpx.Response], base: str) -> list:
    """`n` requests released together by a barrier, each on its own connection."""
    barrier = threading.Barrier(n)
    answers: list[httpx.Response] = []

    def run() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            barrier.wait()
            answers.append(send(client))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_requests_in_flight_together_store_one_report(served: str, demo_db: str) -> None:
    marker = uuid.uuid4().hex
    body = {**ROUBAIX, "description": f"Course {marker}"}
    headers = key()
    answers = _at_once(
        6, lambda c: c.post("/api/v1/signalements", json=body, headers=headers), served
    )
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert reports(demo_db, marker) == 1


def test_open311_retry_and_conflict(http: httpx.Client, served: str, demo_db: str) -> None:
    marker = uuid.uuid4().hex
    form = {"lat": ROUBAIX["lat"], "long": ROUBAIX["lon"], "service_code": "proprete",
            "description": f"Tag {marker}"}  # fmt: skip
    headers = key()
    answers = _at_once(
        4, lambda c: c.post("/open311/v2/requests.json", data=form, headers=headers), served
    )
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert reports(demo_db, marker) == 1
    other = http.post(
        "/open311/v2/requests.json", data={**form, "description": "autre"}, headers=headers
    )
    assert other.status_code == 409
    error = other.json()
    assert isinstance(error, list) and error[0]["code"] == 409
    assert "clé d'idempotence" in error[0]["description"]


def test_contribution_retry_stores_once(http: httpx.Client, demo_db: str) -> None:
    signed = bearer(http, "citoyen@demo.local")
    theme = http.get(f"/api/v1/concertations/{TREES}").json()["themes"][0]["slug"]
    marker = uuid.uuid4().hex[:12]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(BELLECOUR)},
        "properties": {"title": f"Un tilleul {marker}", "body": "À l'ombre.", "theme": theme,
                       "kind": "proposition"},
    }  # fmt: skip
    headers = {**key(), **signed}
    url = f"/api/v1/concertations/{TREES}/contributions"
    first = http.post(url, json=feature, headers=headers)
    again = http.post(url, json=feature, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert contributions(demo_db, marker) == 1
    feature["properties"]["title"] = f"Un chêne {marker}"
    assert http.post(url, json=feature, headers=headers).status_code == 409
    assert contributions(demo_db, marker) == 1


def test_an_expired_key_is_taken_over(http: httpx.Client, demo_db: str) -> None:
    marker = uuid.uuid4().hex
    headers = key()
    body = {**ROUBAIX, "description": f"Vieux {marker}"}
    assert http.post("/api/v1/signalements", json=body, headers=headers).status_code == 201
    with psycopg.connect(demo_db) as conn:
        conn.execute(
            "UPDATE idempotency_key SET created_at = now() - interval '25 hours' WHERE key = %s",
            (headers["Idempotency-Key"],),
        )
    renewed = http.post(
        "/api/v1/signalements", json={**body, "description": f"Neuf {marker}"}, headers=headers
    )
    assert renewed.status_code == 201, renewed.text
    assert reports(demo_db, marker) == 2


def test_openapi_declares_the_header_on_the_three_routes(http: httpx.Client) -> None:
    """Clients learn the header from the OpenAPI: on the three creating POSTs, no other."""
    paths = http.get("/openapi.json").json()["paths"]
    declared = {
        (path, method)
        for path, item in paths.items()
        for method, operation in item.items()
        if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert declared == {
        ("/api/v1/signalements", "post"),
        ("/api/v1/concertations/{ref}/contributions", "post"),
        ("/open311/v2/requests.{ext}", "post"),
    }
