"""tiles: `tiles.refresh_polygons` computes each simplified geometry once

Re-applies carto/tiles/sql, whose polygon refresh now fences its subqueries: the
planner no longer evaluates the geometry expression in the filter and the target list
separately (three times a row and band), nor the reprojection once per band. Same
rows, bit for bit; about twice as fast on the 35,000 communes of France.

Revision ID: ii01
Revises: z001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from carto.tiles.schema import apply_tile_sql

revision: str = "ii01"
down_revision: str | None = "z001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    apply_tile_sql(op.execute)


def downgrade() -> None:
    pass  # the former function builds the same rows; the files hold only the current one
