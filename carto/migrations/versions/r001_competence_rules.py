"""routing: the competence table, and each category's noun phrase for explanations

Revision ID: r001
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "r001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("routing",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("category", sa.Column("domain", sa.String(length=200), nullable=True))
    op.create_table(
        "competence_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=True),
        sa.Column("scope_kind", sa.String(length=20), nullable=False),
        sa.Column("scope_code", sa.String(length=20), nullable=True),
        sa.Column("road_class", sa.String(length=40), nullable=True),
        sa.Column("service_slug", sa.String(length=80), nullable=True),
        sa.Column(
            "inform",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('commune', 'intercommunalite', 'authority')",
            name=op.f("ck_competence_rule_level_known"),
        ),
        sa.CheckConstraint(
            "scope_kind IN ('everywhere', 'intercommunalite', 'commune', 'departement')",
            name=op.f("ck_competence_rule_scope_known"),
        ),
        sa.CheckConstraint(
            "(scope_kind = 'everywhere') = (scope_code IS NULL)",
            name=op.f("ck_competence_rule_scope_code_present"),
        ),
        sa.CheckConstraint(
            "(level = 'authority') = (authority_id IS NOT NULL)",
            name=op.f("ck_competence_rule_authority_iff_named"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_from < valid_to",
            name=op.f("ck_competence_rule_period"),
        ),
        sa.CheckConstraint(
            "source IN ('deployment', 'admin')", name=op.f("ck_competence_rule_source_known")
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_competence_rule_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["category.code"],
            name=op.f("fk_competence_rule_category_code_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_competence_rule_created_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["competence_rule.id"],
            name=op.f("fk_competence_rule_replaces_id_competence_rule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competence_rule")),
    )
    op.create_index(
        "ix_competence_rule_lookup",
        "competence_rule",
        ["category_code", "scope_kind", "scope_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_competence_rule_authority_id"), "competence_rule", ["authority_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_competence_rule_authority_id"), table_name="competence_rule")
    op.drop_index("ix_competence_rule_lookup", table_name="competence_rule")
    op.drop_table("competence_rule")
    op.drop_column("category", "domain")
