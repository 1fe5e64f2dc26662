"""Contributions: create (every check, in order), read one, list a concertation's.

The checks run before anything is stored, so a refusal stores nothing: who may
enter it, is the concertation open, theme, kind, geometry (strict GeoJSON), inside
the perimeter, constraint layers, photo. Then the personal-data hold and the
campaign flags decide how it is shown, not whether it is kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from carto.accounts.deps import Principal
from carto.accounts.models import User
from carto.concertations.campaign import (
    declare_residence,
    declared_outside,
    flag_contribution_bursts,
)
from carto.concertations.constraints import check_constraints
from carto.concertations.geojson import parse_geometry
from carto.concertations.models import Concertation, Theme
from carto.concertations.participation_models import Answer, Contribution
from carto.concertations.personal_data import hold_reason
from carto.concertations.public_read import feature_from
from carto.concertations.schemas import (
    ContributionFeature,
    ContributionFeatureIn,
    ResidenceInput,
)
from carto.concertations.service import (
    can_moderate,
    is_staff,
    load_concertation,
    status_of,
    utcnow,
)
from carto.concertations.status import (
    CHANNEL_LABELS,
    current_phase,
)
from carto.errors import Forbidden, InvalidInput, NotFound, OutsideTerritory
from carto.media.service import get_photo_ref
from carto.territories.models import Authority


class ConcertationClosed(InvalidInput):
    code = "concertation_closed"


class ConstraintViolated(InvalidInput):
    code = "constraint_violated"


def _base_query() -> Select[Any]:
    return (
        select(
            Contribution,
            Theme,
            Concertation.slug,
            User.pseudonym,
            Answer,
            Authority.name,
            func.ST_AsGeoJSON(Contribution.geom, 7),
        )
        .options(defer(Contribution.geom), defer(Contribution.geom_3857))
        .execution_options(populate_existing=True)
        .join(Theme, Theme.id == Contribution.theme_id)
        .join(Concertation, Concertation.id == Contribution.concertation_id)
        .outerjoin(User, User.id == Contribution.author_id)
        .outerjoin(Answer, Answer.contribution_id == Contribution.id)
        .outerjoin(Authority, Authority.id == Answer.authority_id)
    )


def _feature(row: Any) -> ContributionFeature:
    """The app role's row in the public views' shape (`public_read.feature_from`)."""
    c, theme, slug, pseudonym, answer, authority, geometry = row
    fields = {
        name: getattr(c, name)
        for name in (
            "id", "concertation_id", "kind", "channel", "visibility", "moderation_reason",
            "title", "body", "photo_id", "author_label", "phase", "votes_for",
            "votes_against", "supports", "comments", "constraint_notes", "created_at",
            "updated_at",
        )
    }  # fmt: skip
    return feature_from(
        {
            **fields, "concertation": slug, "theme": theme.slug, "theme_label": theme.label,
            "theme_color": theme.color, "pseudonym": pseudonym, "commune": c.commune_insee,
            "flagged": bool(c.flags), "geometry": geometry,
            "answer_status": answer.status if answer else None,
            "answer_text": answer.text if answer else None,
            "answered_at": answer.updated_at if answer else None,
            "answer_authority": authority,
        }
    )  # fmt: skip


async def get_contribution(
    *, session: AsyncSession, contribution_id: int, viewer: Principal | None = None
) -> ContributionFeature:
    """One contribution; a hidden one reads as a tombstone with its public reason, a held
    one only for its author and moderators."""
    if not 0 < contribution_id < 2**31:
        raise NotFound("Contribution introuvable.")
    row = (await session.execute(_base_query().where(Contribution.id == contribution_id))).first()
    if row is None:
        raise NotFound("Contribution introuvable.")
    c = row[0]
    if c.visibility == "held" and not await _may_see_held(session, c, viewer):
        raise NotFound("Contribution introuvable.")
    found = _feature(row)
    if found.properties.photo_id:
        photo = await get_photo_ref(session=session, photo_id=found.properties.photo_id)
        if photo is not None:
            found.properties.photo_url = photo.url
            found.properties.photo_thumbnail_url = photo.thumbnail_url
    return found


async def _may_see_held(session: AsyncSession, c: Contribution, viewer: Principal | None) -> bool:
    if viewer is None:
        return False
    if viewer.user_id in (c.author_id, c.entered_by_id):
        return True
    concertation = await session.get(Concertation, c.concertation_id)
    return concertation is not None and can_moderate(viewer, concertation)


def check_open(k: Concertation, *, staff_entry: bool) -> None:
    """Online input while open; staff may still type in workshop or paper input once closed."""
    status = status_of(k)
    if status == "ouverte" or (status == "close" and staff_entry):
        return
    when = {
        "a_venir": f"n'est pas encore ouverte (ouverture le {k.opens_at:%d/%m/%Y})",
        "close": f"est close depuis le {k.closes_at:%d/%m/%Y}",
        "archivee": "est archivée",
    }[status]
    raise ConcertationClosed(
        f"La concertation « {k.title} » {when} : elle ne reçoit pas de contributions.",
        status=status,
    )


async def _place(session: AsyncSession, k: Concertation, wkt: str) -> str | None:
    """The commune of the contribution; OutsideTerritory when it leaves the perimeter."""
    row = (
        await session.execute(
            text(
                """WITH g AS (SELECT ST_GeomFromText(:wkt, 4326) AS geom)
                   SELECT ST_CoveredBy(g.geom, k.perimeter) AS inside,
                          (SELECT m.insee FROM commune m
                            WHERE ST_Intersects(m.geom, ST_PointOnSurface(g.geom))
                            ORDER BY m.insee LIMIT 1) AS commune
                   FROM concertation k, g WHERE k.id = :k"""
            ),
            {"wkt": wkt, "k": k.id},
        )
    ).one()
    if not row.inside:
        raise OutsideTerritory(
            f"Cette contribution est hors du périmètre de la concertation « {k.title} » : "
            "placez-la à l'intérieur de la zone indiquée sur la carte."
        )
    return str(row.commune) if row.commune else None


def _theme(k: Concertation, slug: str) -> Theme:
    theme = next((t for t in k.themes if t.slug == slug), None)
    if theme is None:
        known = ", ".join(t.slug for t in k.themes)
        raise InvalidInput(
            f"Thème inconnu : « {slug[:80]} ». Thèmes possibles : {known}.",
            themes=[t.slug for t in k.themes],
        )
    return theme


async def _check_photo(session: AsyncSession, photo_id: str | None) -> None:
    if photo_id is None:
        return
    if await get_photo_ref(session=session, photo_id=photo_id) is None:
        raise InvalidInput("Photo inconnue : envoyez-la d'abord sur /api/v1/media.")


async def _validated(
    session: AsyncSession, k: Concertation, feature: ContributionFeatureIn, staff_entry: bool
) -> tuple[Theme, str, str | None, list[str]]:
    """Theme, WKT, commune and constraint notes; raises on the first refusal."""
    props = feature.properties
    check_open(k, staff_entry=staff_entry)
    theme = _theme(k, props.theme)
    if props.kind not in k.allowed_kinds:
        raise InvalidInput(
            f"Type de contribution non accepté ici : « {props.kind} ».", kinds=k.allowed_kinds
        )
    wkt = parse_geometry(feature.geometry, allowed=k.allowed_geometry_types).wkt
    commune = await _place(session, k, wkt)
    violations = await check_constraints(session=session, concertation_id=k.id, wkt=wkt)
    rejected = [v for v in violations if v.action == "reject"]
    if rejected:
        raise ConstraintViolated(
            " ".join(v.message for v in rejected), reasons=[v.as_dict() for v in rejected]
        )
    await _check_photo(session, props.photo_id)
    return theme, wkt, commune, [v.message for v in violations]


async def create_contribution(
    *, session: AsyncSession, ref: int | str, feature: ContributionFeatureIn,
    principal: Principal, ip_hash: str | None = None, commit: bool = True,
) -> ContributionFeature:  # fmt: skip
    """Store a contribution after every check; 422 (nothing stored) on any refusal.
    `commit=False` leaves the commit to the caller (an idempotency key goes with it)."""
    k = await load_concertation(session=session, ref=ref)
    props = feature.properties
    staff_entry = props.channel != "online"
    if staff_entry and not await is_staff(session=session, principal=principal, c=k):
        raise Forbidden(
            "Seuls les agents, modérateurs et administrateurs de la concertation peuvent saisir "
            "une contribution d'atelier, de borne, papier ou assistée."
        )
    theme, wkt, commune, notes = await _validated(session, k, feature, staff_entry)
    if props.resident is not None and not staff_entry:
        await declare_residence(
            session=session, c=k, principal=principal,
            data=ResidenceInput(resident=props.resident), commit=False,
        )  # fmt: skip
    outside = not staff_entry and await declared_outside(
        session=session, concertation_id=k.id, user_id=principal.user_id
    )
    held = hold_reason(props.title, props.body, props.author_label)
    contribution = Contribution(
        concertation_id=k.id, theme_id=theme.id, kind=props.kind, title=props.title,
        body=props.body, geom=f"SRID=4326;{wkt}", commune_insee=commune,
        phase=current_phase(k.phases, utcnow()), channel=props.channel, photo_id=props.photo_id,
        author_id=None if staff_entry else principal.user_id,
        author_label=(props.author_label or CHANNEL_LABELS[props.channel]) if staff_entry else None,
        entered_by_id=principal.user_id if staff_entry else None,
        ip_hash=None if staff_entry else ip_hash,
        visibility="held" if held else "published", hold_reason=held,
        flags=["outside_perimeter"] if outside else [], constraint_notes=notes,
    )  # fmt: skip
    session.add(contribution)
    await session.flush()
    if not staff_entry:
        await flag_contribution_bursts(
            session=session, concertation_id=k.id, author_id=principal.user_id, ip_hash=ip_hash
        )
    if commit:
        await session.commit()
    return await get_contribution(
        session=session, contribution_id=contribution.id, viewer=principal
    )
