"""The `vocabulary` table: the terms of `terms.py` as rows, for the SQL views to join.

Filled by migrations (never by hand): a revision that changes a label calls `sync`
again, and `tests/vocabulary` fails until one does.
"""

from __future__ import annotations

import sqlalchemy as sa

from carto.vocabulary.terms import rows

TABLE = sa.table(
    "vocabulary",
    sa.column("domain", sa.Text),
    sa.column("code", sa.Text),
    sa.column("label", sa.Text),
    sa.column("position", sa.SmallInteger),
)


def sync(connection: sa.Connection) -> None:
    """Make the table hold exactly the Python definitions (delete, then insert all)."""
    connection.execute(sa.delete(TABLE))
    connection.execute(
        sa.insert(TABLE),
        [{"domain": d, "code": c, "label": lb, "position": p} for d, c, lb, p in rows()],
    )
