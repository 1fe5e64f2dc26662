"""public pages read as the reader: views of the tickets' public page, Open311 and categories

Revision ID: p002
Revises: p001
Create Date: 2026-12-07

The anonymous reads of the write side's tables (a ticket's public page, `nearby`,
Open311 GET) move to the reader role, which may read `public_layers` and nothing
else. These views carry what those answers publish and nothing more: the masked
description (the text as typed stays in `signalement_reporter`), no reporter, no
internal note, no actor, no e-mail or address. They have no geometry column on
purpose: the OGC API and the exports publish the spatial views only, so these
pages' views are not map layers. p001's default privileges grant them to
`carto_reader` (and `carto_app`): created here by the owner, in `public_layers`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "p002"
down_revision: str | None = "p001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "s003"  # masked descriptions (and the media)

VIEWS = {
    "signalement_pages": """
        SELECT s.id, s.state, s.status, s.category_code, c.label AS category,
               a.name AS authority, sv.name AS service,
               s.commune_insee, co.nom AS commune_nom,
               s.arrondissement_insee, ar.nom AS arrondissement_nom,
               s.address_string, s.description, s.explanation, s.media_url,
               s.created_at, s.updated_at, s.due_at, s.supports, s.duplicate_of_id,
               ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
        FROM public.signalement s
        JOIN public.category c ON c.code = s.category_code
        JOIN public.authority a ON a.id = s.authority_id
        JOIN public.service sv ON sv.id = s.service_id
        LEFT JOIN public.commune co ON co.insee = s.commune_insee
        LEFT JOIN public.arrondissement ar ON ar.insee = s.arrondissement_insee
    """,
    "signalement_events": """
        SELECT e.id, e.signalement_id, e.at, e.kind, e.to_state, e.public_note, e.related_id,
               dst.name AS to_service, dst_a.name AS to_authority
        FROM public.signalement_event e
        LEFT JOIN public.service dst ON dst.id = e.to_service_id
        LEFT JOIN public.authority dst_a ON dst_a.id = dst.authority_id
    """,
    "signalement_photos": """
        SELECT sp.signalement_id, sp.position, p.id AS photo_id, p.content_type,
               p.width, p.height
        FROM public.signalement_photo sp JOIN public.media_photo p ON p.id = sp.photo_id
    """,
    "categories": """
        SELECT code, label, description, "group", keywords, sort_order, active
        FROM public.category
    """,
}
COMMENT = "Page publique (sans géométrie : pas une couche cartographique)."


def upgrade() -> None:
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW public_layers.{name} AS {body}")
        op.execute(f"COMMENT ON VIEW public_layers.{name} IS '{COMMENT}'")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS public_layers.{name}")
