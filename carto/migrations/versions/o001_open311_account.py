"""signalement_reporter.account_id: the Open311 client's account of the reporter

Revision ID: o001
Revises: s003
Create Date: 2026-12-07

GeoReport v2 lets a client post `account_id` (the reporter's account in that
client) and expects it back. It identifies a person, so it is kept with the
reporter's other personal data (staff only; retention and erasure clear it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "o001"
down_revision: str | None = "s003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("signalement_reporter", sa.Column("account_id", sa.String(100)))


def downgrade() -> None:
    op.drop_column("signalement_reporter", "account_id")
