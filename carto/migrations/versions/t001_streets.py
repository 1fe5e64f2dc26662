"""street context: OSM highway segments and the record of the loaded extract

Revision ID: t001
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "t001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("streets",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "street_segment",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("osm_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("ref", sa.String(length=100), nullable=True),
        sa.Column("highway", sa.String(length=40), nullable=False),
        sa.Column("road_class", sa.String(length=40), nullable=False),
        sa.Column(
            "geom",
            Geometry(geometry_type="LINESTRING", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_street_segment")),
    )
    op.create_index("idx_street_segment_geom", "street_segment", ["geom"], postgresql_using="gist")
    op.create_index(op.f("ix_street_segment_osm_id"), "street_segment", ["osm_id"])
    op.create_index(op.f("ix_street_segment_road_class"), "street_segment", ["road_class"])
    op.create_table(
        "street_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_street_import")),
        sa.UniqueConstraint("sha256", name=op.f("uq_street_import_sha256")),
    )


def downgrade() -> None:
    op.drop_table("street_import")
    op.drop_table("street_segment")
