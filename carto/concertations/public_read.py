"""The anonymous concertation pages, read from the `public_layers` views (the reader role's).

Anonymous callers read through the reader role's session, which can read these views
(migration p004) and nothing else. The answers are the ones the app role's reads give
(`service`, `contributions`, `reactions`): a contribution's fields go through the same
`feature_from`, so both paths publish one shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.concertations.schemas import (
    CommentPublic,
    ConcertationDetail,
    ConcertationPublic,
    ContributionCollection,
    ContributionFeature,
    PhasePublic,
    ReferenceLayerPublic,
    ThemePublic,
    unsafe_text,
)
from carto.concertations.status import (
    ANSWER_LABELS,
    CHANNEL_LABELS,
    CONTRIBUTION_KIND_LABELS,
    PHASE_LABELS,
    STATUS_LABELS,
    author_name,
    concertation_status,
    current_phase,
)
from carto.errors import InvalidInput, NotFound
from carto.media.models import Photo
from carto.media.service import photo_ref
from carto.parsing import parse_id

PAGES = "SELECT * FROM public_layers.concertation_pages"
THEMES_SQL = text(
    "SELECT concertation_id, slug, label, color, icon, description "
    "FROM public_layers.concertation_themes WHERE concertation_id = ANY(:ids) "
    "ORDER BY concertation_id, sort_order, id"
)
PHASES_SQL = text(
    "SELECT concertation_id, phase, starts_at, description "
    "FROM public_layers.concertation_phases WHERE concertation_id = ANY(:ids) "
    "ORDER BY concertation_id, starts_at, id"
)
LAYERS_SQL = text(
    "SELECT id, slug, title, description, role, rule, distance_m, action, message, color, "
    "features FROM public_layers.reference_layers WHERE concertation_id = :k ORDER BY id"
)
CONTRIBUTIONS = "FROM public_layers.contribution_pages c"
COMMENTS_SQL = text(
    "SELECT id, parent_id, pseudonym, visibility, body, moderation_reason, created_at "
    "FROM public_layers.contribution_comments WHERE contribution_id = :id "
    "ORDER BY created_at, id"
)


def feature_from(m: Mapping[Any, Any]) -> ContributionFeature:
    """A contribution as GeoJSON from its public fields; a hidden one is a tombstone."""
    hidden = m["visibility"] == "hidden"
    answer = None
    if m["answer_status"] is not None:
        answer = {
            "status": m["answer_status"],
            "label": ANSWER_LABELS[m["answer_status"]],
            "text": m["answer_text"],
            "authority": m["answer_authority"],
            "answered_at": m["answered_at"],
        }
    props = {
        "concertation": m["concertation"],
        "concertation_id": m["concertation_id"],
        "theme": m["theme"],
        "theme_label": m["theme_label"],
        "theme_color": m["theme_color"],
        "kind": m["kind"],
        "kind_label": CONTRIBUTION_KIND_LABELS[m["kind"]],
        "title": None if hidden else m["title"],
        "body": None if hidden else m["body"],
        "author": author_name(m["pseudonym"], m["author_label"]),
        "channel": m["channel"],
        "channel_label": CHANNEL_LABELS[m["channel"]],
        "photo_id": None if hidden else m["photo_id"],
        "commune": m["commune"],
        "phase": m["phase"],
        "votes_for": m["votes_for"],
        "votes_against": m["votes_against"],
        "supports": m["supports"],
        "comments": m["comments"],
        "answer": answer,
        "visibility": m["visibility"],
        "moderation_reason": m["moderation_reason"],
        "flagged": bool(m["flagged"]),
        "constraint_notes": list(m["constraint_notes"]),
        "created_at": m["created_at"],
        "updated_at": m["updated_at"],
    }
    geometry = None if hidden or m["geometry"] is None else json.loads(m["geometry"])
    return ContributionFeature.model_validate(
        {"id": m["id"], "geometry": geometry, "properties": props}
    )


async def concertation_page(session: AsyncSession, ref: int | str) -> Mapping[Any, Any]:
    """The public row of the concertation with this id or slug (as
    `service.load_concertation`), or NotFound."""
    if isinstance(ref, str) and unsafe_text(ref):
        raise NotFound("Concertation introuvable.")
    ident = ref if isinstance(ref, int) else parse_id(ref)
    value: int | str | None = ref
    where = "slug"
    if ident is not None:
        where, value = "id", ident if 0 < ident < 2**31 else None
    row = None
    if value is not None:
        query = text(f"{PAGES} WHERE {where} = :v")
        row = (await session.execute(query, {"v": value})).mappings().first()
    if row is None:
        raise NotFound("Concertation introuvable.")
    return row


async def _concertations(
    session: AsyncSession, rows: Sequence[Mapping[Any, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The fields of `ConcertationPublic` for these rows (themes and phases in two reads)."""
    ids = [r["id"] for r in rows]
    themes: dict[int, list[ThemePublic]] = {i: [] for i in ids}
    for t in (await session.execute(THEMES_SQL, {"ids": ids})).mappings():
        themes[t["concertation_id"]].append(ThemePublic.model_validate(dict(t)))
    phases: dict[int, list[Any]] = {i: [] for i in ids}
    for p in await session.execute(PHASES_SQL, {"ids": ids}):
        phases[p.concertation_id].append(p)
    out = []
    for r in rows:
        status = concertation_status(r["opens_at"], r["closes_at"], r["archived_at"], now)
        phase = current_phase(phases[r["id"]], now)
        out.append(
            {
                **{k: r[k] for k in ("id", "slug", "title", "description", "kind")},
                "status": status,
                "status_label": STATUS_LABELS[status],
                **{k: r[k] for k in ("opens_at", "closes_at", "archived_at")},
                "phase": phase,
                "perimeter": json.loads(r["perimeter"]),
                "themes": themes[r["id"]],
                "phases": [
                    PhasePublic(
                        phase=p.phase,
                        label=PHASE_LABELS[p.phase],
                        starts_at=p.starts_at,
                        description=p.description,
                        current=p.phase == phase,
                    )  # fmt: skip
                    for p in phases[r["id"]]
                ],
                "allowed_geometry_types": list(r["allowed_geometry_types"]),
                "allowed_kinds": list(r["allowed_kinds"]),
                "authorities": sorted(r["authorities"]),
                "contributions": r["contributions"],
                "is_demo": r["is_demo"],
            }
        )
    return out


async def list_concertations(*, session: AsyncSession) -> list[ConcertationPublic]:
    """Every concertation, open ones and archives alike, newest opening first."""
    now = datetime.now(UTC)
    rows = (await session.execute(text(f"{PAGES} ORDER BY opens_at DESC, id"))).mappings().all()
    return [ConcertationPublic.model_validate(d) for d in await _concertations(session, rows, now)]


async def concertation_detail(*, session: AsyncSession, ref: int | str) -> ConcertationDetail:
    """One concertation with its reference layers (their feature counts)."""
    row = await concertation_page(session, ref)
    (data,) = await _concertations(session, [row], datetime.now(UTC))
    layers = (await session.execute(LAYERS_SQL, {"k": row["id"]})).mappings()
    data["reference_layers"] = [ReferenceLayerPublic.model_validate(dict(r)) for r in layers]
    return ConcertationDetail.model_validate(data)


# The list's orders (`sort`): "supported" ranks as the synthesis does (supports plus
# agreeing votes); "answered" puts answered contributions first, latest answer first.
ORDERS = {
    "oldest": "c.id",
    "newest": "c.created_at DESC, c.id DESC",
    "supported": "c.supports + c.votes_for DESC, c.id DESC",
    "answered": "c.answer_status IS NULL, c.answered_at DESC, c.id DESC",
}


async def list_contributions(
    *, session: AsyncSession, ref: int | str, theme: str | None = None, kind: str | None = None,
    bbox: tuple[float, float, float, float] | None = None, limit: int = 500, offset: int = 0,
    q: str | None = None, sort: str = "oldest", answered: bool | None = None,
) -> ContributionCollection:  # fmt: skip
    """The published contributions of a concertation as GeoJSON, oldest first unless
    `sort` says otherwise. `q` is matched as plain text (`strpos`, so `%` and `_` are
    literal characters, never patterns) in the title and the text, case-insensitively."""
    k = await concertation_page(session, ref)
    where = ["c.concertation_id = :k", "c.visibility = 'published'"]
    params: dict[str, Any] = {"k": k["id"], "limit": limit, "offset": offset}
    if theme:
        where.append("c.theme = :theme")
        params["theme"] = theme
    if kind:
        where.append("c.kind = :kind")
        params["kind"] = kind
    if q and unsafe_text(q):
        raise InvalidInput("La recherche contient des caractères non autorisés.")
    if q and q.strip():
        where.append("strpos(lower(coalesce(c.title, '') || ' ' || coalesce(c.body, '')), :q) > 0")
        params["q"] = q.strip().lower()
    if answered is not None:
        where.append(f"c.answer_status IS {'NOT ' if answered else ''}NULL")
    if bbox:  # the bounding boxes overlap (as `&&` on the geometry)
        where.append("c.xmin <= :e AND c.xmax >= :w AND c.ymin <= :n AND c.ymax >= :s")
        params.update(zip(("w", "s", "e", "n"), bbox, strict=True))
    cond = " AND ".join(where)
    order = ORDERS[sort]
    matched = await session.scalar(text(f"SELECT count(*) {CONTRIBUTIONS} WHERE {cond}"), params)
    rows = await session.execute(
        text(f"SELECT * {CONTRIBUTIONS} WHERE {cond} ORDER BY {order} LIMIT :limit OFFSET :offset"),
        params,
    )
    features = [feature_from(r) for r in rows.mappings()]
    return ContributionCollection(
        features=features, number_matched=int(matched or 0), number_returned=len(features)
    )


async def get_contribution(*, session: AsyncSession, contribution_id: int) -> ContributionFeature:
    """One contribution as the public sees it: a hidden one is a tombstone, a held one
    is not found."""
    row = None
    if 0 < contribution_id < 2**31:
        query = text(f"SELECT * {CONTRIBUTIONS} WHERE c.id = :id")
        row = (await session.execute(query, {"id": contribution_id})).mappings().first()
    if row is None:
        raise NotFound("Contribution introuvable.")
    found = feature_from(row)
    if row["photo_id"] and row["photo_content_type"]:
        photo = Photo(
            id=row["photo_id"], content_type=row["photo_content_type"],
            width=row["photo_width"], height=row["photo_height"],
        )  # fmt: skip
        ref = photo_ref(photo)
        found.properties.photo_url = ref.url
        found.properties.photo_thumbnail_url = ref.thumbnail_url
    return found


async def list_comments(*, session: AsyncSession, contribution_id: int) -> list[CommentPublic]:
    """Threads of a published contribution, oldest first; held comments are left out,
    hidden ones keep their place with the public reason."""
    published = None
    if 0 < contribution_id < 2**31:
        published = await session.scalar(
            text(f"SELECT c.visibility = 'published' {CONTRIBUTIONS} WHERE c.id = :id"),
            {"id": contribution_id},
        )
    if not published:
        raise NotFound("Contribution introuvable.")
    nodes: dict[int, CommentPublic] = {}
    roots: list[CommentPublic] = []
    for m in await session.execute(COMMENTS_SQL, {"id": contribution_id}):
        node = CommentPublic(
            id=m.id, parent_id=m.parent_id, author=author_name(m.pseudonym, None),
            body=None if m.visibility == "hidden" else m.body, visibility=m.visibility,
            moderation_reason=m.moderation_reason, created_at=m.created_at,
        )  # fmt: skip
        nodes[m.id] = node
        parent = nodes.get(m.parent_id) if m.parent_id else None
        (parent.replies if parent else roots).append(node)
    return roots
