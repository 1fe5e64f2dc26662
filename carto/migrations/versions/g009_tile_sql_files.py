"""tiles: functions, views and triggers from carto/tiles/sql; point_changed and on_point_row dropped

A database migrated by the history before the g008 baseline gets the current tile
SQL (the same definitions, now generated from one place) and loses the two functions
nothing has called since the compiled point triggers: `tiles.point_changed` (the
per-row dynamic read) and `tiles.on_point_row` (its generic trigger). A database
built from the baseline never had them.

Revision ID: g009
Revises: g008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from carto.tiles.schema import apply_tile_sql

revision: str = "g009"
down_revision: str | None = "g008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS tiles.on_point_row()")
    op.execute("DROP FUNCTION IF EXISTS tiles.point_changed(text, text)")
    apply_tile_sql(op.execute)


def downgrade() -> None:
    pass  # the dead functions are not brought back: the g008 baseline has none
