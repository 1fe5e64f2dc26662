"""api clients: Open311 keys (hashed) scoped to an authority or some of its services

Revision ID: a001
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("apiclients",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),  # fmt: skip
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            ondelete="CASCADE",
            name=op.f("fk_api_client_authority_id_authority"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["app_user.id"],
            ondelete="SET NULL",
            name=op.f("fk_api_client_created_by_user_id_app_user"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_client_key_hash")),
    )
    op.create_index(op.f("ix_api_client_authority_id"), "api_client", ["authority_id"])
    op.create_table(
        "api_client_service",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            ondelete="CASCADE",
            name=op.f("fk_api_client_service_client_id_api_client"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            ondelete="CASCADE",
            name=op.f("fk_api_client_service_service_id_service"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("client_id", "service_id", name=op.f("pk_api_client_service")),
    )
    op.create_index(op.f("ix_api_client_service_service_id"), "api_client_service", ["service_id"])


def downgrade() -> None:
    op.drop_table("api_client_service")
    op.drop_table("api_client")
