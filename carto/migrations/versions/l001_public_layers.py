"""public_layers schema: the privacy boundary, with the territory layers

Every public output (OGC API, tiles, exports) reads views of this schema only;
a view selects public columns only. Feature tables add their own views later.

Revision ID: l001
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "l001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("layers",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS public_layers")
    op.execute(
        """
        CREATE VIEW public_layers.communes AS
        SELECT c.insee AS id, c.insee, c.nom, c.population, c.departement, c.epci_siren,
               a.slug AS authority_slug, c.updated_at, c.geom
        FROM public.commune c JOIN public.authority a ON a.id = c.authority_id
        """
    )
    op.execute(
        """
        CREATE VIEW public_layers.arrondissements AS
        SELECT r.insee AS id, r.insee, r.nom, r.population, r.commune_insee, r.updated_at, r.geom
        FROM public.arrondissement r
        """
    )
    op.execute(
        """
        CREATE VIEW public_layers.intercommunalites AS
        SELECT i.siren AS id, i.siren, i.nom, i.kind AS nature, a.slug AS authority_slug,
               (SELECT count(*) FROM public.intercommunalite_member m
                 WHERE m.siren = i.siren) AS communes,
               (SELECT sum(c.population) FROM public.intercommunalite_member m
                 JOIN public.commune c ON c.insee = m.insee WHERE m.siren = i.siren) AS population,
               i.updated_at, i.geom
        FROM public.intercommunalite i JOIN public.authority a ON a.id = i.authority_id
        WHERE i.geom IS NOT NULL
        """
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS public_layers CASCADE")
