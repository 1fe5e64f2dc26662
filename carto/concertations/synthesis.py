"""The synthesis of a concertation: counts, participation per 1,000 inhabitants, most
supported and most disputed contributions, spatial hotspots, themes found in the texts.

Only published contributions count. Campaign-flagged contributions and votes are
counted apart (`flagged`), never mixed into the main figures. The same code serves
the API (async session, asyncpg) and the CLI (sync connection, psycopg): queries go
through a `Runner`, one awaitable call per SQL statement.
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
UNFLAGGED = "cardinality(c.flags) = 0"
FLAGGED = "cardinality(c.flags) > 0"

SQL = {
    "concertation": """
        SELECT id, slug, title, kind, opens_at, closes_at, archived_at,
               ST_AsGeoJSON(perimeter, 5) AS perimeter
        FROM concertation WHERE id = :k""",
    "themes": f"""
        SELECT t.slug, t.label, t.color,
               count(c.id) FILTER (WHERE {UNFLAGGED}) AS count,
               count(c.id) FILTER (WHERE {FLAGGED}) AS flagged
        FROM concertation_theme t
        LEFT JOIN contribution c ON c.theme_id = t.id AND c.visibility = 'published'
        WHERE t.concertation_id = :k GROUP BY t.id ORDER BY t.sort_order, t.id""",
    "facets": f"""
        SELECT 'kind' AS facet, c.kind AS value, count(*) FILTER (WHERE {UNFLAGGED}) AS count,
               count(*) FILTER (WHERE {FLAGGED}) AS flagged
          FROM contribution c WHERE c.concertation_id = :k AND c.visibility = 'published'
         GROUP BY c.kind
        UNION ALL
        SELECT 'channel', c.channel, count(*) FILTER (WHERE {UNFLAGGED}),
               count(*) FILTER (WHERE {FLAGGED})
          FROM contribution c WHERE c.concertation_id = :k AND c.visibility = 'published'
         GROUP BY c.channel
        UNION ALL
        SELECT 'phase', coalesce(c.phase, 'aucune'), count(*) FILTER (WHERE {UNFLAGGED}),
               count(*) FILTER (WHERE {FLAGGED})
          FROM contribution c WHERE c.concertation_id = :k AND c.visibility = 'published'
         GROUP BY c.phase
        UNION ALL
        SELECT 'visibility', c.visibility, count(*), 0
          FROM contribution c WHERE c.concertation_id = :k GROUP BY c.visibility
        UNION ALL
        SELECT 'answer', coalesce(a.status, 'sans_reponse'), count(*) FILTER (WHERE {UNFLAGGED}),
               count(*) FILTER (WHERE {FLAGGED})
          FROM contribution c LEFT JOIN contribution_answer a ON a.contribution_id = c.id
         WHERE c.concertation_id = :k AND c.visibility = 'published' GROUP BY a.status""",
    "communes": f"""
        SELECT m.insee, m.nom, m.population,
               count(c.id) FILTER (WHERE {UNFLAGGED}) AS contributions,
               count(c.id) FILTER (WHERE {FLAGGED}) AS flagged,
               count(DISTINCT c.author_id) FILTER (WHERE {UNFLAGGED}) AS participants
        FROM concertation k
        JOIN commune m ON ST_Intersects(k.perimeter, ST_PointOnSurface(m.geom))
        LEFT JOIN contribution c ON c.commune_insee = m.insee AND c.concertation_id = k.id
             AND c.visibility = 'published'
        WHERE k.id = :k GROUP BY m.insee ORDER BY m.nom""",
    "votes": """
        SELECT count(*) FILTER (WHERE cardinality(v.flags) = 0 AND v.value = 1) AS votes_for,
               count(*) FILTER (WHERE cardinality(v.flags) = 0 AND v.value = -1) AS votes_against,
               count(*) FILTER (WHERE cardinality(v.flags) > 0) AS flagged
        FROM contribution_vote v JOIN contribution c
          ON c.id = v.contribution_id AND c.concertation_id = v.concertation_id
        WHERE c.concertation_id = :k AND c.visibility = 'published'""",
    "participation": f"""
        SELECT (SELECT count(*) FROM contribution_support s JOIN contribution c
                  ON c.id = s.contribution_id AND c.concertation_id = s.concertation_id
                 WHERE c.concertation_id = :k AND c.visibility = 'published') AS supports,
               (SELECT count(*) FROM contribution_comment m JOIN contribution c
                  ON c.id = m.contribution_id AND c.concertation_id = m.concertation_id
                 WHERE c.concertation_id = :k AND c.visibility = 'published'
                   AND m.visibility = 'published') AS comments,
               (SELECT count(*) FROM contribution c WHERE c.concertation_id = :k
                   AND c.visibility = 'published' AND c.author_id IS NULL AND {UNFLAGGED})
                 AS offline_contributions,
               (SELECT count(DISTINCT u) FROM (
                  SELECT c.author_id AS u FROM contribution c WHERE c.concertation_id = :k
                     AND c.visibility = 'published' AND {UNFLAGGED}
                  UNION ALL SELECT v.user_id FROM contribution_vote v JOIN contribution c
                     ON c.id = v.contribution_id AND c.concertation_id = v.concertation_id
                   WHERE c.concertation_id = :k AND cardinality(v.flags) = 0
                  UNION ALL SELECT m.author_id FROM contribution_comment m JOIN contribution c
                     ON c.id = m.contribution_id AND c.concertation_id = m.concertation_id
                   WHERE c.concertation_id = :k AND m.visibility = 'published'
                  UNION ALL SELECT s.user_id FROM contribution_support s JOIN contribution c
                     ON c.id = s.contribution_id AND c.concertation_id = s.concertation_id
                   WHERE c.concertation_id = :k) p
                 WHERE u IS NOT NULL) AS participants""",
    "ranking": f"""
        SELECT c.id, c.title, t.slug AS theme, t.label AS theme_label, c.supports,
               count(v.id) FILTER (WHERE v.value = 1 AND cardinality(v.flags) = 0) AS votes_for,
               count(v.id) FILTER (WHERE v.value = -1 AND cardinality(v.flags) = 0)
                 AS votes_against
        FROM contribution c JOIN concertation_theme t ON t.id = c.theme_id
        LEFT JOIN contribution_vote v
          ON v.contribution_id = c.id AND v.concertation_id = c.concertation_id
        WHERE c.concertation_id = :k AND c.visibility = 'published' AND {UNFLAGGED}
        GROUP BY c.id, t.slug, t.label""",
    "hotspots": f"""
        WITH pts AS (
          SELECT c.id, c.theme_id, ST_Transform(ST_PointOnSurface(c.geom), 2154) AS g
            FROM contribution c
           WHERE c.concertation_id = :k AND c.visibility = 'published' AND {UNFLAGGED}),
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
        FROM agg a JOIN concertation_theme t ON t.id = a.theme_id
        ORDER BY a.size DESC, lon LIMIT 20""",
    "texts": f"""
        SELECT c.id, c.title, c.body FROM contribution c
        WHERE c.concertation_id = :k AND c.visibility = 'published' AND {UNFLAGGED}
        ORDER BY c.id""",
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
