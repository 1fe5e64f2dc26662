"""tiles: per-table autovacuum settings for the insert-heavy tile tables

Dense point tiles are index-only scans of `tiles.heat_point`, fast only on pages the
visibility map calls all-visible, which only VACUUM sets. With PostgreSQL's defaults
(insert vacuum after 1000 + 20 % of the table's rows, dead-row vacuum after 50 + 20 %)
an autovacuum of a 10 M-row table waits for 2 M new reports, so the pages of recent
reports, the ones people look at, stayed not all-visible and every dense tile paid a
heap fetch per point (issue 23: 1.5× tipg instead of 3.8×).

- `heat_point`: vacuumed after 1000 + 0.1 % new rows (11,000 on 10 M reports, a few
  hours of a busy city's intake) or 1000 + 0.5 % updated or deleted ones (51,000 on
  10 M). Such vacuums are cheap: the visibility map lets them skip every page already
  visible, and with few dead rows PostgreSQL 14+ skips the index pass. Analyze after
  2 % changed (default 10 %) keeps the planner's row counts near. The tile benchmark's
  "production-like" state (1 % of the points written, not vacuumed) is worse than
  what this leaves between two vacuums, and still meets its goal (bench/RESULTS.md).
- `heat_delta`, `write_log`: queues (appended by every write, emptied by the fold each
  second): vacuumed every 5000 rows whatever their size, so dead rows never pile up.

Revision ID: e001
Revises: g009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e001"
down_revision: str | None = "g009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE = {
    "autovacuum_vacuum_insert_threshold": "5000",
    "autovacuum_vacuum_insert_scale_factor": "0",
    "autovacuum_vacuum_threshold": "5000",
    "autovacuum_vacuum_scale_factor": "0",
}
AUTOVACUUM: dict[str, dict[str, str]] = {
    "tiles.heat_point": {
        "autovacuum_vacuum_insert_threshold": "1000",
        "autovacuum_vacuum_insert_scale_factor": "0.001",
        "autovacuum_vacuum_threshold": "1000",
        "autovacuum_vacuum_scale_factor": "0.005",
        "autovacuum_analyze_scale_factor": "0.02",
    },
    "tiles.heat_delta": QUEUE,
    "tiles.write_log": QUEUE,
}


def upgrade() -> None:
    for table, options in AUTOVACUUM.items():
        op.execute(
            f"ALTER TABLE {table} SET ({', '.join(f'{k} = {v}' for k, v in options.items())})"
        )


def downgrade() -> None:
    for table, options in AUTOVACUUM.items():
        op.execute(f"ALTER TABLE {table} RESET ({', '.join(options)})")
