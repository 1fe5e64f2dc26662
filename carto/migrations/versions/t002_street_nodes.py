"""streets: the OSM node ids of each way, so the segments form a routable graph

Ways that meet share a node id; the crew-round graph (carto/rounds/graph.py) joins
them there. Extracts loaded before this revision have no node ids: the graph asks
for a re-import (`carto import streets FILE --force`).

Revision ID: t002
Revises: t001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t002"
down_revision: str | None = "t001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "street_segment", sa.Column("node_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("street_segment", "node_ids")
