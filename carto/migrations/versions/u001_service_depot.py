"""rounds: each service's depot, where its crews' rounds start and end

Revision ID: u001
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "u001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("rounds",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_depot",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "geom", Geometry(geometry_type="POINT", srid=4326, spatial_index=False), nullable=False
        ),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_depot_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_service_depot_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["app_user.id"],
            name=op.f("fk_service_depot_updated_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_depot")),
    )
    op.create_index(op.f("ix_service_depot_authority_id"), "service_depot", ["authority_id"])


def downgrade() -> None:
    op.drop_table("service_depot")
