"""The public views carry no personal data and nothing moderators have set aside."""

from __future__ import annotations

from sqlalchemy import text

CONTRIBUTION_COLUMNS = {
    "id",
    "concertation",
    "concertation_id",
    "theme",
    "theme_label",
    "theme_color",
    "kind",
    "title",
    "body",
    "channel",
    "votes_for",
    "votes_against",
    "supports",
    "comments",
    "answer",
    "answer_status",
    "answer_text",
    "answered_at",
    "flagged",
    "commune",
    "phase",
    "photo_id",
    "created_at",
    "updated_at",
    "geom",
    "geom_3857",
}


async def _columns(session, view):
    rows = await session.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public_layers' AND table_name = :v"
        ),
        {"v": view},
    )
    return set(rows.scalars())


async def test_contribution_view_columns_are_public_only(session):
    assert await _columns(session, "contributions") == CONTRIBUTION_COLUMNS
    assert await _columns(session, "concertations") == {
        "id",
        "slug",
        "title",
        "description",
        "kind",
        "status",
        "opens_at",
        "closes_at",
        "archived_at",
        "contributions",
        "geom",
    }
    assert await _columns(session, "reference_features") == {
        "id",
        "layer_id",
        "layer",
        "layer_title",
        "layer_role",
        "layer_color",
        "concertation",
        "concertation_id",
        "properties",
        "geom",
    }


async def test_view_excludes_held_and_hidden_and_marks_flagged(session):
    rows = (
        await session.execute(
            text(
                "SELECT c.visibility, count(v.id) AS shown, count(*) AS stored, "
                "count(*) FILTER (WHERE v.flagged) AS flagged "
                "FROM contribution c LEFT JOIN public_layers.contributions v ON v.id = c.id "
                "JOIN concertation k ON k.id = c.concertation_id "
                "WHERE k.slug = 'plu-de-la-mel' GROUP BY c.visibility"
            )
        )
    ).all()
    by = {r.visibility: (r.shown, r.stored, r.flagged) for r in rows}
    assert by["held"][0] == 0 and by["hidden"][0] == 0
    assert by["published"][0] == by["published"][1] and by["published"][2] == 14
    srid = await session.scalar(
        text("SELECT DISTINCT ST_SRID(geom_3857) FROM public_layers.contributions")
    )
    assert srid == 3857


async def test_no_personal_data_in_public_rows_or_api(client, session):
    leaked = await session.scalar(
        text(
            "SELECT count(*) FROM public_layers.contributions v, app_user u "
            "WHERE v.title ILIKE '%' || u.email || '%' OR v.body ILIKE '%' || u.email || '%' "
            "OR v.body ~ '[A-Za-z0-9._-]+@[A-Za-z0-9-]+\\.[a-z]{2,}'"
        )
    )
    assert leaked == 0
    plu = await session.scalar(text("SELECT id FROM concertation WHERE slug = 'plu-de-la-mel'"))
    for path in (
        "/api/v1/concertations",
        f"/api/v1/concertations/{plu}",
        f"/api/v1/concertations/{plu}/contributions?limit=1000",
        f"/api/v1/concertations/{plu}/synthesis",
    ):
        body = (await client.get(path)).text
        assert "@demo.local" not in body and "@example.org" not in body, path
        assert "ip_hash" not in body and "email" not in body, path
