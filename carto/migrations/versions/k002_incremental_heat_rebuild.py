"""tiles: the heat-grid rebuild goes through the write path when few points changed

Re-applies carto/tiles/sql: `tiles.rebuild_heat(layer)` compares the view with
`tiles.heat_point` and, when at most one point in `HEAT_INCREMENTAL_SHARE` differs and
the grid agrees with `tiles.heat_point` (`tiles.heat_agrees`), writes the differences as
heat deltas and folds them instead of recomputing the grid;
`tiles.rebuild_heat(layer, true)` always recomputes it. The tables are unchanged.

Revision ID: k002
Revises: ii01
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from carto.tiles.schema import apply_tile_sql

revision: str = "k002"
down_revision: str | None = "ii01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    apply_tile_sql(op.execute)


def downgrade() -> None:
    pass  # the functions build the same grid as z001's; the files hold only the current ones
