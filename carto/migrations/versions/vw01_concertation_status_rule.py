"""public concertations view: the status from `concertations.status`'s rule, not a typed CASE

c001 typed the status of `public_layers.concertations` as a SQL `CASE` of its own,
a second copy of `concertation_status()` that nothing kept in line. The view is now
rendered from `STATUS_RULES` (`status_sql`), the rule the Python function reads: same
columns, same values, same grants (a replaced view keeps them). A revision that changes
the rule renders the view again, and `tests/vocabulary` fails until one does.

Revision ID: vw01
Revises: c002
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

from carto.concertations.status import status_sql

revision: str = "vw01"
down_revision: str | None = "c002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONCERTATIONS_VIEW = f"""
CREATE OR REPLACE VIEW public_layers.concertations AS
SELECT k.id, k.slug, k.title, k.description, k.kind,
       {status_sql("k")} AS status,
       k.opens_at, k.closes_at, k.archived_at,
       (SELECT count(*) FROM public.contribution c
         WHERE c.concertation_id = k.id AND c.visibility = 'published') AS contributions,
       k.perimeter AS geom
FROM public.concertation k
"""


def upgrade() -> None:
    op.execute(CONCERTATIONS_VIEW)


def downgrade() -> None:
    # c001's own definition, read from that revision rather than typed again.
    path = Path(__file__).with_name("c001_concertations.py")
    spec = importlib.util.spec_from_file_location("c001_concertations", path)
    assert spec and spec.loader
    c001 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(c001)
    view = next(v for v in c001.VIEWS if "public_layers.concertations" in v)
    op.execute(view.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
