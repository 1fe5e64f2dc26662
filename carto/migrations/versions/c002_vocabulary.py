"""vocabulary table filled from the Python definitions; public contributions join it

The French labels of the coded values (signalement states, concertation statuses and
kinds, contribution kinds, answer decisions...) were typed again as a SQL `CASE` in
c001's `public_layers.contributions`. They now come from a `vocabulary` table that this
revision fills from `carto.vocabulary.terms` (the modules that define the codes), and
the view joins it: same columns, same values, same grants (a replaced view keeps them).

Revision ID: c002
Revises: c001
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from carto.vocabulary.table import sync

revision: str = "c002"
down_revision: str | None = "c001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTRIBUTIONS_VIEW = """
CREATE OR REPLACE VIEW public_layers.contributions AS
SELECT c.id, k.slug AS concertation, c.concertation_id,
       t.slug AS theme, t.label AS theme_label, t.color AS theme_color,
       c.kind, c.title, c.body, c.channel,
       c.votes_for, c.votes_against, c.supports, c.comments,
       v.label AS answer,
       a.status AS answer_status, a.text AS answer_text, a.updated_at AS answered_at,
       cardinality(c.flags) > 0 AS flagged,
       c.commune_insee AS commune, c.phase, c.photo_id,
       c.created_at, c.updated_at, c.geom, c.geom_3857
FROM public.contribution c
JOIN public.concertation k ON k.id = c.concertation_id
JOIN public.concertation_theme t ON t.id = c.theme_id
LEFT JOIN public.contribution_answer a ON a.contribution_id = c.id
LEFT JOIN public.vocabulary v ON v.domain = 'answer_status' AND v.code = a.status
WHERE c.visibility = 'published'
"""


def upgrade() -> None:
    op.create_table(
        "vocabulary",
        sa.Column("domain", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("domain", "code", name="pk_vocabulary"),
    )
    sync(op.get_bind())
    op.execute(CONTRIBUTIONS_VIEW)


def downgrade() -> None:
    # c001's own definition (its CASE), read from that revision rather than typed again.
    path = Path(__file__).with_name("c001_concertations.py")
    spec = importlib.util.spec_from_file_location("c001_concertations", path)
    assert spec and spec.loader
    c001 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(c001)
    view = next(v for v in c001.VIEWS if "public_layers.contributions" in v)
    op.execute(view.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
    op.drop_table("vocabulary")
