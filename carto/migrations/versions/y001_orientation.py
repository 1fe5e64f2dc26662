"""signalements: the « à orienter » decisions (a default-routed ticket confirmed or re-routed)

Revision ID: y001
Revises: o001
Create Date: 2026-12-07

A ticket routed only by a legal default, or to the front desk of an authority that
does not use Carto, waits in the « à orienter » queue until an administrator confirms
or re-routes it; this table records that decision (one per ticket). The platform's
administrators are the admins of the `plateforme` authority created here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "y001"
down_revision: str | None = "o001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("f001",)


def upgrade() -> None:
    op.create_table(
        "signalement_orientation",
        sa.Column(
            "signalement_id",
            sa.Integer(),
            sa.ForeignKey("signalement.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("authority_id", sa.Integer(), sa.ForeignKey("authority.id"), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="SET NULL")),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("outcome IN ('confirmed', 'rerouted')", name="outcome_known"),
    )
    op.create_index("ix_signalement_orientation_authority_id", "signalement_orientation",
                    ["authority_id"])  # fmt: skip
    op.execute(
        """INSERT INTO authority (slug, name, kind, code)
           VALUES ('plateforme', 'Plateforme Carto', 'plateforme', 'carto')
           ON CONFLICT DO NOTHING"""
    )
    op.execute(
        """DO $$ BEGIN
           IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'carto_app') THEN
               GRANT SELECT, INSERT, UPDATE, DELETE ON signalement_orientation TO carto_app;
           END IF; END $$"""
    )


def downgrade() -> None:
    op.drop_table("signalement_orientation")
    op.execute(
        "DELETE FROM authority WHERE kind = 'plateforme' AND NOT EXISTS "
        "(SELECT 1 FROM role_grant g WHERE g.authority_id = authority.id)"
    )
