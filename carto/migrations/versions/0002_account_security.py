"""accounts: login throttling and account deletion

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "app_user", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("app_user", sa.Column("locked_until", sa.DateTime(timezone=True)))
    op.add_column("app_user", sa.Column("last_login_at", sa.DateTime(timezone=True)))
    op.add_column("app_user", sa.Column("deleted_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    for column in ("deleted_at", "last_login_at", "locked_until", "failed_logins"):
        op.drop_column("app_user", column)
