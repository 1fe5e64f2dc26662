"""tiles: the set-based heat-grid rebuild (integer keys, heat_point by difference)

Re-applies carto/tiles/sql, whose `tiles.rebuild_heat` now aggregates the levels on
integer keys and brings `tiles.heat_point` in line with the view by difference. The
grid it builds is the same; the tables are unchanged.

Revision ID: z001
Revises: e001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from carto.tiles.schema import apply_tile_sql

revision: str = "z001"
down_revision: str | None = "e001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    apply_tile_sql(op.execute)


def downgrade() -> None:
    pass  # the former function builds the same grid; the files hold only the current one
