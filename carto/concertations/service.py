"""Concertations: list, read, create, update, archive; and who may act on one.

Plain functions, keyword-only session, no FastAPI. ORM rows stay in this package;
callers get schemas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from geoalchemy2 import WKTElement
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.deps import Principal
from carto.concertations import public_read
from carto.concertations.geojson import parse_perimeter
from carto.concertations.models import (
    Concertation,
    ConcertationAuthority,
    Phase,
    ReferenceFeature,
    ReferenceLayer,
    Theme,
)
from carto.concertations.participation_models import Contribution
from carto.concertations.schemas import (
    ConcertationCreate,
    ConcertationDetail,
    ConcertationUpdate,
    PerimeterSpec,
    ReferenceLayerPublic,
    ThemeCreate,
    unsafe_text,
)
from carto.concertations.status import (
    concertation_status,
)
from carto.errors import Conflict, Forbidden, InvalidInput, NotFound
from carto.geo import slugify
from carto.parsing import parse_id
from carto.territories.models import Authority


def utcnow() -> datetime:
    return datetime.now(UTC)


def status_of(c: Concertation, now: datetime | None = None) -> str:
    return concertation_status(c.opens_at, c.closes_at, c.archived_at, now or utcnow())


async def load_concertation(*, session: AsyncSession, ref: int | str) -> Concertation:
    """The concertation with this id or slug, or NotFound."""
    if isinstance(ref, str) and unsafe_text(ref):
        raise NotFound("Concertation introuvable.")
    ident = ref if isinstance(ref, int) else parse_id(ref)
    if ident is not None:
        found = await session.get(Concertation, ident) if 0 < ident < 2**31 else None
    else:
        found = await session.scalar(select(Concertation).where(Concertation.slug == ref))
    if found is None:
        raise NotFound("Concertation introuvable.")
    return found


def organiser_ids(c: Concertation) -> frozenset[int]:
    return frozenset(o.authority_id for o in c.organisers)


def is_organiser_admin(principal: Principal, c: Concertation) -> bool:
    """An administrator of one of the authorities that run the concertation."""
    return bool(principal.admin_authority_ids & organiser_ids(c))


async def is_staff(*, session: AsyncSession, principal: Principal, c: Concertation) -> bool:
    """May enter contributions on someone's behalf (workshop, paper, kiosk, assisted)."""
    if "moderator" in principal.roles or is_organiser_admin(principal, c):
        return True
    if not principal.service_ids or not c.organisers:
        return False
    found = await session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM service WHERE id = ANY(:s) AND authority_id = ANY(:a))"),
        {"s": list(principal.service_ids), "a": list(organiser_ids(c))},
    )
    return bool(found)


def can_moderate(principal: Principal, c: Concertation) -> bool:
    return "moderator" in principal.roles or is_organiser_admin(principal, c)


async def _layers(session: AsyncSession, concertation_id: int) -> list[ReferenceLayerPublic]:
    count = (
        select(func.count()).where(ReferenceFeature.layer_id == ReferenceLayer.id).scalar_subquery()
    )
    rows = await session.execute(
        select(ReferenceLayer, count)
        .where(ReferenceLayer.concertation_id == concertation_id)
        .order_by(ReferenceLayer.id)
    )
    return [
        ReferenceLayerPublic.model_validate(
            {
                **{
                    k: getattr(layer, k)
                    for k in ReferenceLayerPublic.model_fields
                    if k != "features"
                },
                "features": n,
            }  # fmt: skip
        )
        for layer, n in rows
    ]


async def concertation_detail(*, session: AsyncSession, ref: int | str) -> ConcertationDetail:
    """The public detail (`public_read`, the views the reader reads), after a write."""
    return await public_read.concertation_detail(session=session, ref=ref)


async def _perimeter_wkt(session: AsyncSession, spec: PerimeterSpec) -> str:
    """The union of the named territories and the drawn geometry, as a MultiPolygon (WKT)."""
    drawn = parse_perimeter(spec.geometry).wkt if spec.geometry else None
    known = await session.execute(
        text(
            "SELECT insee AS code FROM commune WHERE insee = ANY(:c) "
            "UNION ALL SELECT siren FROM intercommunalite "
            "WHERE siren = ANY(:i) AND geom IS NOT NULL"
        ),
        {"c": spec.communes, "i": spec.intercommunalites},
    )
    missing = sorted(set(spec.communes + spec.intercommunalites) - set(known.scalars()))
    if missing:
        raise InvalidInput(f"Territoires inconnus : {', '.join(missing[:10])}.", unknown=missing)
    if not drawn and not spec.communes and not spec.intercommunalites:
        raise InvalidInput("Le périmètre est vide : donnez des communes, des EPCI ou une zone.")
    wkt = await session.scalar(
        text(
            """SELECT ST_AsText(ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(g)), 3)))
               FROM (SELECT geom AS g FROM commune WHERE insee = ANY(:c)
                     UNION ALL SELECT geom FROM intercommunalite WHERE siren = ANY(:i)
                     UNION ALL SELECT ST_GeomFromText(:d, 4326) WHERE :d IS NOT NULL) s"""
        ),
        {"c": spec.communes, "i": spec.intercommunalites, "d": drawn},
    )
    return str(wkt)


async def _unique_slug(session: AsyncSession, wanted: str) -> str:
    base, n = wanted[:110] or "concertation", 1
    slug = base
    while await session.scalar(select(Concertation.id).where(Concertation.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _themes(themes: Sequence[ThemeCreate]) -> list[Theme]:
    slugs = [t.slug or slugify(t.label)[:80] for t in themes]
    if len(set(slugs)) != len(slugs) or not all(slugs):
        raise InvalidInput("Deux thèmes ont le même identifiant : changez leurs libellés.")
    return [
        Theme(
            slug=s,
            label=t.label,
            color=t.color,
            icon=t.icon,
            description=t.description,
            sort_order=i,
        )  # fmt: skip
        for i, (s, t) in enumerate(zip(slugs, themes, strict=True))
    ]


async def _replace_themes(
    session: AsyncSession, c: Concertation, wanted: list[ThemeCreate]
) -> None:
    """Themes matched by slug are updated, new ones added; a theme still used by a
    contribution cannot be removed (its contributions would lose their theme)."""
    fresh = {t.slug: t for t in _themes(wanted)}
    for theme in list(c.themes):
        if theme.slug in fresh:
            new = fresh.pop(theme.slug)
            theme.label, theme.color, theme.icon = new.label, new.color, new.icon
            theme.description, theme.sort_order = new.description, new.sort_order
            continue
        used = await session.scalar(select(func.count()).where(Contribution.theme_id == theme.id))
        if used:
            raise Conflict(
                f"Le thème « {theme.label} » a {used} contribution(s) : il ne peut pas être "
                "retiré (changez plutôt son libellé)."
            )
        c.themes.remove(theme)
    c.themes.extend(fresh.values())


async def create_concertation(
    *, session: AsyncSession, data: ConcertationCreate, principal: Principal
) -> ConcertationDetail:
    """A new concertation run by authorities the caller administers."""
    if data.closes_at <= data.opens_at:
        raise InvalidInput("La date de clôture doit suivre la date d'ouverture.")
    if len({p.phase for p in data.phases}) != len(data.phases):
        raise InvalidInput("Chaque phase ne peut figurer qu'une fois.")
    rows = await session.execute(select(Authority).where(Authority.slug.in_(data.authorities)))
    authorities = list(rows.scalars())
    missing = sorted(set(data.authorities) - {a.slug for a in authorities})
    if missing:
        raise InvalidInput(f"Collectivités inconnues : {', '.join(missing)}.")
    if not all(principal.is_admin_of(a.id) for a in authorities):
        raise Forbidden("Vous n'administrez pas toutes les collectivités indiquées.")
    slug = data.slug or slugify(data.title)
    if data.slug and await session.scalar(select(Concertation.id).where(Concertation.slug == slug)):
        raise Conflict(f"L'identifiant « {slug} » est déjà pris.")
    c = Concertation(
        slug=await _unique_slug(session, slug),
        title=data.title,
        description=data.description,
        kind=data.kind,
        perimeter=f"SRID=4326;{await _perimeter_wkt(session, data.perimeter)}",
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        allowed_geometry_types=list(dict.fromkeys(data.allowed_geometry_types)),
        allowed_kinds=list(dict.fromkeys(data.allowed_kinds)),
    )
    c.themes = _themes(data.themes)
    c.phases = [
        Phase(phase=p.phase, starts_at=p.starts_at, description=p.description) for p in data.phases
    ]
    c.organisers = [ConcertationAuthority(authority_id=a.id) for a in authorities]
    session.add(c)
    await session.commit()
    return await concertation_detail(session=session, ref=c.id)


async def _editable(session: AsyncSession, ref: int | str, principal: Principal) -> Concertation:
    c = await load_concertation(session=session, ref=ref)
    if not is_organiser_admin(principal, c):
        raise Forbidden("Seuls les administrateurs des collectivités organisatrices le peuvent.")
    if c.archived_at is not None:
        raise Conflict("Cette concertation est archivée : elle ne peut plus être modifiée.")
    return c


async def update_concertation(
    *, session: AsyncSession, ref: int | str, data: ConcertationUpdate, principal: Principal
) -> ConcertationDetail:
    c = await _editable(session, ref, principal)
    changes = data.model_dump(exclude_unset=True, exclude={"perimeter", "themes"})
    empty = [name for name in data.model_fields_set if getattr(data, name) is None]
    if empty:
        raise InvalidInput(f"Le champ « {empty[0]} » ne peut pas être vide.")
    if changes.get("closes_at", c.closes_at) <= changes.get("opens_at", c.opens_at):
        raise InvalidInput("La date de clôture doit suivre la date d'ouverture.")
    if data.themes is not None:
        await _replace_themes(session, c, data.themes)
    if data.perimeter is not None:
        wkt = await _perimeter_wkt(session, data.perimeter)
        c.perimeter = WKTElement(wkt, srid=4326)  # type: ignore[assignment]
    for name, value in changes.items():
        setattr(c, name, value)
    await session.commit()
    return await concertation_detail(session=session, ref=c.id)


async def archive_concertation(
    *, session: AsyncSession, ref: int | str, principal: Principal
) -> ConcertationDetail:
    """Freeze a concertation: readable and exportable forever, no more writes."""
    c = await _editable(session, ref, principal)
    c.archived_at = utcnow()
    await session.commit()
    return await concertation_detail(session=session, ref=c.id)
