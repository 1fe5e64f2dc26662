"""tiles for signalements: heat grid and tile cache kept by a row trigger on `signalement`

Transitions, transfers and supports update the `signalement` row, so every change a
map can show (state, category, supports, position) refreshes the grid and the cache.

Revision ID: g004
Revises: g003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "g004"
down_revision: str | None = "g003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "s001"


def upgrade() -> None:
    op.execute(
        """INSERT INTO tiles.point_layer (layer, source, id_type, dim_a, dim_b, weight, maxzoom)
           VALUES ('signalements', 'public_layers.signalements', 'integer',
                   'service_code', 'state', 'supports', 18)"""
    )
    op.execute("SELECT tiles.attach_point_layer('signalements', 'public.signalement', 'id')")
    op.execute("SELECT tiles.rebuild_heat('signalements')")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tiles_signalements ON public.signalement")
    for table in ("tile_cache", "heat_cell", "heat_point", "heat_stats"):
        op.execute(f"DELETE FROM tiles.{table} WHERE layer = 'signalements'")
    op.execute("DELETE FROM tiles.point_layer WHERE layer = 'signalements'")
