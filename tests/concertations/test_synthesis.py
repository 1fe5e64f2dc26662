"""The synthesis, checked number by number against data seeded here, and on the demo PLU."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from carto.concertations.text_themes import find_text_themes
from tests.concertations.conftest import LILLE, LILLE_INSEE, ROUBAIX, ROUBAIX_INSEE, count

INSERT = text(
    """INSERT INTO contribution (concertation_id, theme_id, kind, title, body, geom, commune_insee,
           channel, author_id, author_label, visibility, flags, constraint_notes, votes_for,
           votes_against, supports, comments, is_demo)
       VALUES (:k, (SELECT id FROM concertation_theme WHERE concertation_id = :k AND slug = :theme),
           :kind, :title, '', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :commune, :channel,
           (SELECT id FROM app_user WHERE email = :author), :label, :visibility,
           CAST(:flags AS varchar[]), '{}', 0, 0, 0, 0, false)
       RETURNING id"""
)


async def _add(
    session,
    k,
    name,
    *,
    theme="velo",
    kind="proposition",
    at=LILLE,
    shift=0.0,
    commune=LILLE_INSEE,
    channel="online",
    author=None,
    visibility="published",
    flags=(),
):
    lon = at[0] + shift / (111_320 * math.cos(math.radians(at[1])))
    return await session.scalar(
        INSERT,
        {
            "k": k.id,
            "theme": theme,
            "kind": kind,
            "title": name,
            "lon": lon,
            "lat": at[1],
            "commune": commune,
            "channel": channel,
            "author": author,
            "label": None if author else "Atelier",
            "visibility": visibility,
            "flags": list(flags),
        },
    )


async def _votes(session, cid, values, flags=(), start=20):
    for n, value in enumerate(values, start=start):
        await session.execute(
            text(
                "INSERT INTO contribution_vote (contribution_id, user_id, value, flags) "
                "VALUES (:c, (SELECT id FROM app_user WHERE email = :u), :v, CAST(:f AS varchar[]))"
            ),
            {"c": cid, "u": f"participant.{n:02d}@demo.local", "v": value, "f": list(flags)},
        )


@pytest.fixture
async def seeded(session, make_concertation):
    k = await make_concertation(communes=(LILLE_INSEE, ROUBAIX_INSEE))
    ids = {}
    for n in range(5):  # a tight spot of five in Lille, 20 m apart
        ids[f"A{n + 1}"] = await _add(
            session, k, f"A{n + 1}", shift=20 * n, author=f"participant.{n + 1:02d}@demo.local"
        )
    for n in range(3):
        ids[f"B{n + 1}"] = await _add(
            session,
            k,
            f"B{n + 1}",
            theme="arbres",
            kind="constat",
            at=ROUBAIX,
            shift=500 * n,
            commune=ROUBAIX_INSEE,
            channel="paper",
        )
    ids["C1"] = await _add(
        session,
        k,
        "C1",
        kind="question",
        at=ROUBAIX,
        shift=2000,
        commune=ROUBAIX_INSEE,
        channel="workshop",
    )
    for n in range(2):
        ids[f"F{n + 1}"] = await _add(
            session,
            k,
            f"F{n + 1}",
            shift=3000 + 10 * n,
            author="participant.06@demo.local",
            flags=["burst_account"],
        )
    ids["H1"] = await _add(session, k, "H1", visibility="held", author="citoyen@demo.local")
    ids["X1"] = await _add(session, k, "X1", visibility="hidden", author="citoyen@demo.local")
    await _votes(session, ids["A1"], [1, 1, 1, 1])
    await _votes(session, ids["A1"], [-1], flags=["burst_account"], start=29)  # counted apart
    await _votes(session, ids["A2"], [1, 1, 1, -1, -1, -1])
    await _votes(session, ids["A3"], [1, 1, 1, 1, 1, -1])
    for n in (1, 2):
        await session.execute(
            text(
                "INSERT INTO contribution_support (contribution_id, user_id) "
                "VALUES (:c, (SELECT id FROM app_user WHERE email = :u))"
            ),
            {"c": ids["A1"], "u": f"participant.{n + 10:02d}@demo.local"},
        )
    return k, ids


async def test_synthesis_numbers(client, session, seeded):
    k, ids = seeded
    resp = await client.get(f"/api/v1/concertations/{k.id}/synthesis?eps_m=100&min_points=5")
    assert resp.status_code == 200
    s = resp.json()
    assert s["totals"] == {
        "contributions": 9,
        "flagged_contributions": 2,
        "held": 1,
        "hidden": 1,
        "offline_contributions": 4,
        "participants": 5 + 6 + 2,
        "votes_for": 12,
        "votes_against": 4,
        "flagged_votes": 1,
        "supports": 2,
        "comments": 0,
    }
    assert [(t["slug"], t["count"], t["flagged"]) for t in s["by_theme"]] == [
        ("velo", 6, 2),
        ("arbres", 3, 0),
    ]
    assert {r["value"]: (r["count"], r["flagged"]) for r in s["by_kind"]} == {
        "proposition": (5, 2),
        "constat": (3, 0),
        "question": (1, 0),
    }
    channels = {r["value"]: (r["count"], r["flagged"]) for r in s["by_channel"]}
    assert channels == {
        "online": (5, 2),
        "workshop": (1, 0),
        "kiosk": (0, 0),
        "paper": (3, 0),
        "assisted": (0, 0),
    }
    populations = dict(
        (
            await session.execute(
                text("SELECT insee, population FROM commune WHERE insee IN ('59350', '59512')")
            )
        ).all()
    )
    communes = {c["insee"]: c for c in s["by_commune"]}
    assert set(communes) >= {LILLE_INSEE, ROUBAIX_INSEE}
    lille, roubaix = communes[LILLE_INSEE], communes[ROUBAIX_INSEE]
    assert (lille["contributions"], lille["flagged"], lille["participants"]) == (5, 2, 5)
    assert lille["per_1000"] == round(5 * 1000 / populations[LILLE_INSEE], 3)
    assert (roubaix["contributions"], roubaix["participants"]) == (4, 0)
    assert roubaix["per_1000"] == round(4 * 1000 / populations[ROUBAIX_INSEE], 3)
    assert [c["id"] for c in s["most_supported"][:3]] == [ids["A1"], ids["A3"], ids["A2"]]
    assert s["most_supported"][0]["votes_against"] == 0  # the flagged vote does not count
    assert [c["id"] for c in s["most_disputed"]] == [ids["A2"], ids["A3"]]
    clusters = s["hotspots"]["clusters"]
    assert len(clusters) == 1 and clusters[0]["size"] == 5
    assert clusters[0]["ids"] == sorted(ids[f"A{n}"] for n in range(1, 6))
    assert 35 <= clusters[0]["radius_m"] <= 45  # centre to the farthest of five points 20 m apart
    assert (
        abs(clusters[0]["lon"] - (LILLE[0] + 40 / (111_320 * math.cos(math.radians(LILLE[1])))))
        < 1e-5
    )
    assert s["text_themes"] == []  # nine texts: too few to group


def test_text_themes_separate_two_vocabularies():
    bikes = [
        (
            n,
            f"Piste cyclable numéro {n}",
            "Sécuriser la piste cyclable pour les vélos et les cyclistes, avec des arceaux vélo.",
        )
        for n in range(12)
    ]
    trees = [
        (
            100 + n,
            f"Planter des arbres {n}",
            "Des arbres et des haies dans le parc, de l'ombre et des jardins fleuris.",
        )
        for n in range(12)
    ]
    groups = find_text_themes(bikes + trees, groups=2)
    assert sorted(g.size for g in groups) == [12, 12]
    by_term = {("vélo" in " ".join(g.top_terms) or "cyclable" in g.top_terms): g for g in groups}
    assert {r["id"] for r in by_term[True].representatives} <= set(range(12))
    assert {r["id"] for r in by_term[False].representatives} <= set(range(100, 112))
    assert "les" not in by_term[True].top_terms and "des" not in by_term[False].top_terms
    assert find_text_themes(bikes[:5]) == []


async def test_demo_plu_synthesis_matches_the_seeded_data(client, session):
    k = await session.scalar(text("SELECT id FROM concertation WHERE slug = 'plu-de-la-mel'"))
    s = (await client.get(f"/api/v1/concertations/{k}/synthesis")).json()
    published = await count(
        session,
        "SELECT count(*) FROM contribution WHERE concertation_id = :k "
        "AND visibility = 'published' AND cardinality(flags) = 0",
        k=k,
    )
    assert s["totals"]["contributions"] == published > 250
    assert s["totals"]["flagged_contributions"] == 14
    assert (s["totals"]["held"], s["totals"]["hidden"]) == (2, 1)
    assert s["totals"]["flagged_votes"] == 30
    assert sum(c["contributions"] for c in s["by_commune"]) == published
    assert any(c["contributions"] == 0 for c in s["by_commune"])  # who is missing shows up
    assert len(s["by_commune"]) >= 90
    assert len(s["text_themes"]) == 6
    words = " ".join(" ".join(g["top_terms"]) for g in s["text_themes"])
    for expected in ("vélo", "logements", "patrimoine", "entreprises", "arbres"):
        assert expected in words, expected
    assert len(s["hotspots"]["clusters"]) >= 2
    biggest = s["hotspots"]["clusters"][0]
    assert biggest["size"] >= 14 and biggest["theme"] in {"mobilites", "commerces"}


async def test_html_report_is_self_contained(client, session):
    resp = await client.get("/api/v1/concertations/plu-de-la-mel/synthesis.html")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    page = resp.text
    assert "Synthèse de la concertation « PLU de la MEL »" in page
    assert "Données de démonstration" in page
    assert "<script src=" not in page and "cdn.jsdelivr" not in page
    assert "window.L" in page  # Leaflet inlined in the map's srcdoc
    assert "Participation par commune" in page and "Thèmes trouvés dans les textes" in page
