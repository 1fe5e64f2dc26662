"""vocabulary: the competence levels and scopes (the rule editor's labels)

The web rule editor typed its own labels for the levels and scopes of a competence
rule; they now live next to the routing code (`routing.models.LEVEL_LABELS`,
`SCOPE_LABELS`) and reach the web app through the vocabulary, as every other label.

Revision ID: aa02
Revises: vw01
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

from carto.vocabulary.table import sync

revision: str = "aa02"
down_revision: str | None = "vw01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("h001",)  # the last sync before this one

DOMAINS = ("competence_level", "competence_scope")


def upgrade() -> None:
    sync(op.get_bind())


def downgrade() -> None:
    op.execute("DELETE FROM vocabulary WHERE domain IN ('competence_level', 'competence_scope')")
