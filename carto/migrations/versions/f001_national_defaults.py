"""national: départements, régions, and the legal default competences as rule rows

Départements and régions are authorities with an area (derived from their
communes by `carto import france`). Competence rules gain the columns a national
default needs: the EPCI category it applies to (`epci_kind`: a default for
dechets differs in a CC and in the Métropole du Grand Paris), its legal basis
and a caveat shown to the citizen; `source = 'national'` marks them, so a
ticket's `rule_id` tells a default from a rule confirmed by the authority.

Revision ID: f001
Revises: r002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "f001"
down_revision: str | None = "r002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _area_table(name: str, extra: list[sa.Column]) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        sa.Column("code", sa.String(3), primary_key=True),
        sa.Column("nom", sa.String(200), nullable=False),
        *extra,
        sa.Column("authority_id", sa.Integer(), sa.ForeignKey("authority.id"), nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def upgrade() -> None:
    _area_table("region", [])
    _area_table("departement", [sa.Column("region_code", sa.String(3), index=True)])
    op.add_column("competence_rule", sa.Column("epci_kind", sa.String(10)))
    op.add_column("competence_rule", sa.Column("legal_basis", sa.Text()))
    op.add_column("competence_rule", sa.Column("caveat", sa.Text()))
    op.drop_constraint(op.f("ck_competence_rule_source_known"), "competence_rule", type_="check")
    op.create_check_constraint(
        op.f("ck_competence_rule_source_known"),
        "competence_rule",
        "source IN ('deployment', 'admin', 'national')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM competence_rule WHERE source = 'national'")
    op.drop_constraint(op.f("ck_competence_rule_source_known"), "competence_rule", type_="check")
    op.create_check_constraint(
        op.f("ck_competence_rule_source_known"),
        "competence_rule",
        "source IN ('deployment', 'admin')",
    )
    for column in ("caveat", "legal_basis", "epci_kind"):
        op.drop_column("competence_rule", column)
    op.drop_table("departement")
    op.drop_table("region")
