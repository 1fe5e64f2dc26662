"""public_layers.jurisdictions: the SIREN and the areas each authority holds

Open311's `jurisdiction_id` is a SIREN or a slug. A département's or a région's authority
has its short code (« 84 ») in `authority.code`, and the same short code may name a
département and a région (Vaucluse, Auvergne-Rhône-Alpes): the view now gives each
authority the SIREN of its body and the codes of the départements and régions it holds,
so the lookup can take a SIREN and tell an ambiguous code apart. Authorities of former
départements or régions that no longer hold any ground (a re-import of France after a
merger: the Haut-Rhin into the Collectivité européenne d'Alsace) and the platform are
not jurisdictions any more. Columns are appended (CREATE OR REPLACE VIEW).

Revision ID: aa03
Revises: h003
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "aa03"
down_revision: str | None = "h003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("dd02",)  # departement.siren, region.siren

OLD = """
        SELECT a.id, a.slug, a.code, a.name,
               EXISTS (SELECT 1 FROM public.service sv WHERE sv.authority_id = a.id) AS has_service
        FROM public.authority a
"""
NEW = """
        SELECT a.id, a.slug, a.code, a.name,
               EXISTS (SELECT 1 FROM public.service sv WHERE sv.authority_id = a.id) AS has_service,
               coalesce(CASE WHEN a.kind = 'intercommunalite' THEN a.code END,
                        (SELECT min(d.siren) FROM public.departement d WHERE d.authority_id = a.id),
                        (SELECT min(r.siren) FROM public.region r WHERE r.authority_id = a.id))
                   AS siren,
               ARRAY(SELECT d.code FROM public.departement d WHERE d.authority_id = a.id
                     UNION SELECT r.code FROM public.region r WHERE r.authority_id = a.id
                     ORDER BY 1)::text[] AS area_codes
        FROM public.authority a
        WHERE a.kind <> 'plateforme'
          AND (a.kind NOT IN ('departement', 'region')
               OR EXISTS (SELECT 1 FROM public.departement d WHERE d.authority_id = a.id)
               OR EXISTS (SELECT 1 FROM public.region r WHERE r.authority_id = a.id))
"""


def upgrade() -> None:
    op.execute(f"CREATE OR REPLACE VIEW public_layers.jurisdictions AS {NEW}")


def downgrade() -> None:
    op.execute("DROP VIEW public_layers.jurisdictions")
    op.execute(f"CREATE VIEW public_layers.jurisdictions AS {OLD}")
    op.execute(
        "COMMENT ON VIEW public_layers.jurisdictions IS"
        " 'Collectivités (Open311 jurisdiction_id) : noms et codes publics.'"
    )
