"""The geocoder's tables readable by the reader role (public reference data)

Revision ID: h003
Revises: h002
Create Date: 2026-12-07

`GET /api/v1/geocode` and `/geocode/reverse` are anonymous reads: they move to the
reader role's pool. Their SQL (carto/geocoding/sql) reads the BAN streets, addresses and
postcodes, and the names and shapes of communes, arrondissements and named streets:
public data, granted column by column where the table holds more (the reader still
reads no ticket, account or reporter). `carto_main_postcode` runs with its caller's
rights, hence the postcode table too.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "h003"
down_revision: str | None = "h002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READER = "carto_reader"
GRANTS = (
    "SELECT ON public.geocode_address, public.geocode_street, public.geocode_postcode",
    "SELECT (insee, nom, population, geom, geo_norm) ON public.commune",
    "SELECT (insee, nom, population, geom, geo_norm, commune_insee) ON public.arrondissement",
    "SELECT (name, geom, geo_norm) ON public.street_segment",
)


def upgrade() -> None:
    op.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
    for grant in GRANTS:
        op.execute(f"GRANT {grant} TO {READER}")


def downgrade() -> None:
    for grant in reversed(GRANTS):
        op.execute(f"REVOKE {grant} FROM {READER}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {READER}")
