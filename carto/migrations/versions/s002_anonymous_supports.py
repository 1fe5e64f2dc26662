"""signalements: supports without an account (one per address, kept as a keyed hash)

Revision ID: s002
Revises: s001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s002"
down_revision: str | None = "s001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "signalement_support", sa.Column("supporter", sa.String(length=64), nullable=True)
    )
    op.execute("UPDATE signalement_support SET supporter = 'u:' || user_id")
    op.alter_column("signalement_support", "supporter", nullable=False)
    op.drop_constraint("pk_signalement_support", "signalement_support", type_="primary")
    op.create_primary_key(
        "pk_signalement_support", "signalement_support", ["signalement_id", "supporter"]
    )
    op.alter_column("signalement_support", "user_id", nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM signalement_support WHERE user_id IS NULL")
    op.drop_constraint("pk_signalement_support", "signalement_support", type_="primary")
    op.create_primary_key(
        "pk_signalement_support", "signalement_support", ["signalement_id", "user_id"]
    )
    op.drop_column("signalement_support", "supporter")
