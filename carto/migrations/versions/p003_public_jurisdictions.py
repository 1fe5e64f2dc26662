"""Open311 jurisdictions read as the reader: the authorities' public names and codes

Revision ID: p003
Revises: p002
Create Date: 2026-12-07

`jurisdiction_id` (Open311) names an authority by slug or code, and a jurisdiction's
requests are those it handles or that lie on its ground. Both are anonymous reads, so
they go through `public_layers` like the rest of Open311 GET: a `jurisdictions` view
(public names and codes, whether the authority has a service) and the ticket page view
with the handling authority's id and the point's intercommunality appended (CREATE OR
REPLACE VIEW may only add columns at the end).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "p003"
down_revision: str | None = "p002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGES = """
        SELECT s.id, s.state, s.status, s.category_code, c.label AS category,
               a.name AS authority, sv.name AS service,
               s.commune_insee, co.nom AS commune_nom,
               s.arrondissement_insee, ar.nom AS arrondissement_nom,
               s.address_string, s.description, s.explanation, s.media_url,
               s.created_at, s.updated_at, s.due_at, s.supports, s.duplicate_of_id,
               ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat{extra}
        FROM public.signalement s
        JOIN public.category c ON c.code = s.category_code
        JOIN public.authority a ON a.id = s.authority_id
        JOIN public.service sv ON sv.id = s.service_id
        LEFT JOIN public.commune co ON co.insee = s.commune_insee
        LEFT JOIN public.arrondissement ar ON ar.insee = s.arrondissement_insee
"""
EXTRA = ",\n               s.authority_id, s.intercommunalite_siren, co.authority_id AS commune_authority_id"
JURISDICTIONS = """
        SELECT a.id, a.slug, a.code, a.name,
               EXISTS (SELECT 1 FROM public.service sv WHERE sv.authority_id = a.id) AS has_service
        FROM public.authority a
"""


def upgrade() -> None:
    op.execute(
        f"CREATE OR REPLACE VIEW public_layers.signalement_pages AS {PAGES.format(extra=EXTRA)}"
    )
    op.execute(f"CREATE VIEW public_layers.jurisdictions AS {JURISDICTIONS}")
    op.execute(
        "COMMENT ON VIEW public_layers.jurisdictions IS"
        " 'Collectivités (Open311 jurisdiction_id) : noms et codes publics.'"
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS public_layers.jurisdictions")
    op.execute("DROP VIEW public_layers.signalement_pages")
    op.execute(f"CREATE VIEW public_layers.signalement_pages AS {PAGES.format(extra='')}")
    op.execute(
        "COMMENT ON VIEW public_layers.signalement_pages IS"
        " 'Page publique (sans géométrie : pas une couche cartographique).'"
    )
