"""The synthesis of a concertation: counts, participation per 1,000 inhabitants, most
supported and most disputed contributions, spatial hotspots, themes found in the texts.

Only published contributions count. Campaign-flagged contributions and votes are
counted apart (`flagged`), never mixed into the main figures. The same code serves
the API (async session, asyncpg) and the CLI (sync connection, psycopg): queries go
through a `Runner`, one awaitable call per SQL statement. Every query reads the
`public_layers` views (migration p004), so the API runs it as the reader role.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from carto.concertations.status import (
    ANSWER_LABELS,
    CHANNEL_LABELS,
    CONTRIBUTION_KIND_LABELS,
    PHASE_LABELS,
    STATUS_LABELS,
    concertation_status,
)
from carto.concertations.text_themes import find_text_themes
from carto.errors import NotFound

Runner = Callable[[str, dict[str, Any]], Awaitable[list[Mapping[str, Any]]]]
TOP = 10
UNFLAGGED = "NOT c.flagged"
PUBLISHED = "c.concertation_id = :k AND c.visibility = 'published'"
V = "public_layers"  # the reader's views (migration p004): no table is read directly

SQL = {
    "concertation": f"""
        SELECT id, slug, title, kind, opens_at, closes_at, archived_at, is_demo,
               perimeter_coarse AS perimeter
        FROM {V}.concertation_pages WHERE id = :k""",
    "themes": f"""
        SELECT t.slug, t.label, t.color,
               count(c.id) FILTER (WHERE {UNFLAGGED}) AS count,
               count(c.id) FILTER (WHERE c.flagged) AS flagged
        FROM {V}.concertation_themes t
        LEFT JOIN {V}.contribution_pages c ON c.theme_id = t.id AND c.visibility = 'published'
        WHERE t.concertation_id = :k
        GROUP BY t.id, t.slug, t.label, t.color, t.sort_order ORDER BY t.sort_order, t.id""",
    "facets": f"""
        SELECT 'kind' AS facet, c.kind AS value, count(*) FILTER (WHERE {UNFLAGGED}) AS count,
               count(*) FILTER (WHERE c.flagged) AS flagged
          FROM {V}.contribution_pages c WHERE {PUBLISHED} GROUP BY c.kind
        UNION ALL
        SELECT 'channel', c.channel, count(*) FILTER (WHERE {UNFLAGGED}),
               count(*) FILTER (WHERE c.flagged)
          FROM {V}.contribution_pages c WHERE {PUBLISHED} GROUP BY c.channel
        UNION ALL
        SELECT 'phase', coalesce(c.phase, 'aucune'), count(*) FILTER (WHERE {UNFLAGGED}),
               count(*) FILTER (WHERE c.flagged)
          FROM {V}.contribution_pages c WHERE {PUBLISHED} GROUP BY c.phase
        UNION ALL
        SELECT 'visibility', c.visibility, c.count, 0
          FROM {V}.concertation_visibility c WHERE c.concertation_id = :k
        UNION ALL
        SELECT 'answer', coalesce(c.answer_status, 'sans_reponse'),
               count(*) FILTER (WHERE {UNFLAGGED}), count(*) FILTER (WHERE c.flagged)
          FROM {V}.contribution_pages c WHERE {PUBLISHED} GROUP BY c.answer_status""",
    "communes": f"""
        SELECT insee, nom, population, contributions, flagged, participants
        FROM {V}.concertation_communes WHERE concertation_id = :k ORDER BY nom""",
    "votes": f"""
        SELECT coalesce(sum(votes_for), 0) AS votes_for,
               coalesce(sum(votes_against), 0) AS votes_against,
               coalesce(sum(flagged), 0) AS flagged
        FROM {V}.contribution_votes WHERE concertation_id = :k""",
    "participation": f"""
        SELECT supports, comments, offline_contributions, participants
        FROM {V}.concertation_participation WHERE concertation_id = :k""",
    "ranking": f"""
        SELECT c.id, c.title, c.theme, c.theme_label, c.supports, v.votes_for, v.votes_against
        FROM {V}.contribution_pages c JOIN {V}.contribution_votes v ON v.contribution_id = c.id
        WHERE {PUBLISHED} AND {UNFLAGGED}""",
    "hotspots": f"""
        WITH pts AS (
          SELECT c.id, c.theme_id,
                 ST_Transform(ST_SetSRID(ST_MakePoint(c.lon, c.lat), 4326), 2154) AS g
            FROM {V}.contribution_pages c WHERE {PUBLISHED} AND {UNFLAGGED}),
        cl AS (SELECT pts.*, ST_ClusterDBSCAN(g, CAST(:eps AS float8), CAST(:minpts AS integer))
                        OVER () AS n
                 FROM pts),
        agg AS (SELECT n, count(*) AS size, ST_Centroid(ST_Collect(g)) AS center,
                       ST_Collect(g) AS pts, (array_agg(id ORDER BY id))[1:5] AS ids,
                       mode() WITHIN GROUP (ORDER BY theme_id) AS theme_id
                  FROM cl WHERE n IS NOT NULL GROUP BY n)
        SELECT a.size, ST_X(ST_Transform(a.center, 4326)) AS lon,
               ST_Y(ST_Transform(a.center, 4326)) AS lat,
               ST_MaxDistance(a.center, a.pts) AS radius_m, a.ids,
               t.slug AS theme, t.label AS theme_label
        FROM agg a JOIN {V}.concertation_themes t ON t.id = a.theme_id
        ORDER BY a.size DESC, lon LIMIT 20""",
    "texts": f"""
        SELECT c.id, c.title, c.body FROM {V}.contribution_pages c
        WHERE {PUBLISHED} AND {UNFLAGGED} ORDER BY c.id""",
}


def _facet(
    rows: list[Mapping[str, Any]], name: str, labels: dict[str, str]
) -> list[dict[str, Any]]:
    found = {r["value"]: r for r in rows if r["facet"] == name}
    keys = list(labels) + sorted(set(found) - set(labels))
    return [
        {
            "value": key,
            "label": labels.get(key, key),
            "count": int(found[key]["count"]) if key in found else 0,
            "flagged": int(found[key]["flagged"]) if key in found else 0,
        }  # fmt: skip
        for key in keys
    ]


def _rankings(rows: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Most supported (supports + agreeing votes) and most disputed (the smaller side of a
    split vote: 10 for / 9 against beats 30 for / 1 against)."""
    items = [
        {
            "id": r["id"],
            "title": r["title"],
            "theme": r["theme"],
            "theme_label": r["theme_label"],
            "supports": int(r["supports"]),
            "votes_for": int(r["votes_for"]),
            "votes_against": int(r["votes_against"]),
        }  # fmt: skip
        for r in rows
    ]
    supported = sorted(
        (i for i in items if i["supports"] + i["votes_for"] > 0),
        key=lambda i: (
            -(i["supports"] + i["votes_for"]),
            i["votes_against"] - i["votes_for"],
            i["id"],
        ),
    )
    disputed = sorted(
        (i for i in items if i["votes_for"] and i["votes_against"]),
        key=lambda i: (
            -min(i["votes_for"], i["votes_against"]),
            -(i["votes_for"] + i["votes_against"]),
            i["id"],
        ),  # fmt: skip
    )
    return supported[:TOP], disputed[:TOP]


def _communes(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        population = r["population"] or 0
        rate = round(r["contributions"] * 1000 / population, 3) if population else None
        out.append({"insee": r["insee"], "nom": r["nom"], "population": r["population"],
                    "contributions": int(r["contributions"]), "flagged": int(r["flagged"]),
                    "participants": int(r["participants"]), "per_1000": rate})  # fmt: skip
    return out


async def build_synthesis(
    run: Runner, concertation_id: int, *, eps_m: float = 300.0, min_points: int = 5,
    groups: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The whole synthesis as JSON-ready data; NotFound for an unknown concertation."""
    params = {"k": concertation_id}
    head = await run(SQL["concertation"], params)
    if not head:
        raise NotFound("Concertation introuvable.")
    k = head[0]
    now = datetime.now(UTC)
    status = concertation_status(k["opens_at"], k["closes_at"], k["archived_at"], now)
    results = {
        name: await run(
            SQL[name],
            {**params, "eps": eps_m, "minpts": min_points} if name == "hotspots" else params,
        )  # fmt: skip
        for name in (
            "themes",
            "facets",
            "communes",
            "votes",
            "participation",
            "ranking",
            "hotspots",
            "texts",
        )  # fmt: skip
    }
    facets = results["facets"]
    by_theme = [dict(r) for r in results["themes"]]
    visibility = {r["value"]: int(r["count"]) for r in facets if r["facet"] == "visibility"}
    votes, participation = results["votes"][0], results["participation"][0]
    supported, disputed = _rankings(results["ranking"])
    texts = [(r["id"], r["title"], r["body"]) for r in results["texts"]]
    themes_found = await asyncio.to_thread(find_text_themes, texts, groups=groups)
    answer_labels = {**ANSWER_LABELS, "sans_reponse": "Sans réponse"}
    return {
        "concertation": {
            "id": k["id"],
            "slug": k["slug"],
            "title": k["title"],
            "kind": k["kind"],
            "status": status,
            "status_label": STATUS_LABELS[status],
            "opens_at": k["opens_at"].isoformat(),
            "closes_at": k["closes_at"].isoformat(),
        },  # fmt: skip
        "generated_at": now.isoformat(),
        "totals": {
            "contributions": sum(int(t["count"]) for t in by_theme),
            "flagged_contributions": sum(int(t["flagged"]) for t in by_theme),
            "held": visibility.get("held", 0),
            "hidden": visibility.get("hidden", 0),
            "offline_contributions": int(participation["offline_contributions"]),
            "participants": int(participation["participants"]),
            "votes_for": int(votes["votes_for"]),
            "votes_against": int(votes["votes_against"]),
            "flagged_votes": int(votes["flagged"]),
            "supports": int(participation["supports"]),
            "comments": int(participation["comments"]),
        },
        "by_theme": [
            {**t, "count": int(t["count"]), "flagged": int(t["flagged"])} for t in by_theme
        ],
        "by_kind": _facet(facets, "kind", CONTRIBUTION_KIND_LABELS),
        "by_channel": _facet(facets, "channel", CHANNEL_LABELS),
        "by_phase": _facet(facets, "phase", PHASE_LABELS),
        "by_answer": _facet(facets, "answer", answer_labels),
        "by_commune": _communes(results["communes"]),
        "most_supported": supported,
        "most_disputed": disputed,
        "hotspots": {
            "eps_m": eps_m,
            "min_points": min_points,
            "clusters": [
                {**dict(h), "ids": list(h["ids"]), "radius_m": round(float(h["radius_m"]), 1)}
                for h in results["hotspots"]
            ],
        },  # fmt: skip
        "text_themes": [t.as_dict() for t in themes_found],
        "perimeter": json.loads(k["perimeter"]),
    }


def session_runner(session: AsyncSession) -> Runner:
    """Run the synthesis queries on the app's async session."""

    async def run(sql: str, params: dict[str, Any]) -> list[Mapping[str, Any]]:
        return [dict(r) for r in (await session.execute(text(sql), params)).mappings()]

    return run


def connection_runner(conn: Connection) -> Runner:
    """Run them on a sync SQLAlchemy connection (psycopg), for the CLI."""

    async def run(sql: str, params: dict[str, Any]) -> list[Mapping[str, Any]]:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]

    return run
