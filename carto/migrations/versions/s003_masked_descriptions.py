"""signalements: contact details masked in public descriptions, originals kept apart

Revision ID: s003
Revises: s002
Create Date: 2026-12-07

A description is public (Open311, the native API, nearby); e-mail addresses and
phone numbers typed in it are masked there, and the text as typed is kept with
the reporter's personal data (`signalement_reporter.description_original`), which
only the competent staff read and which retention and erasure clear. Existing
reports are masked here with the same detector as intake (carto.personal_data).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carto.personal_data import mask_contact_details

revision: str = "s003"
down_revision: str | None = "s002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only texts with an e-mail sign or a digit can need masking: the rest is not read.
CANDIDATES = """SELECT id, authority_id, description FROM signalement
WHERE description ~ '[0-9@]' OR description ~* '(at|arobase)'"""


def upgrade() -> None:
    op.add_column("signalement_reporter", sa.Column("description_original", sa.Text()))
    conn = op.get_bind()
    for row in conn.execute(sa.text(CANDIDATES)).all():
        public = mask_contact_details(row.description)
        if public == row.description:
            continue
        conn.execute(
            sa.text(
                """INSERT INTO signalement_reporter
                       (signalement_id, authority_id, description_original)
                   VALUES (:id, :authority_id, :original)
                   ON CONFLICT (signalement_id)
                   DO UPDATE SET description_original = EXCLUDED.description_original"""
            ),
            {"id": row.id, "authority_id": row.authority_id, "original": row.description},
        )
        conn.execute(
            sa.text("UPDATE signalement SET description = :public WHERE id = :id"),
            {"id": row.id, "public": public},
        )


def downgrade() -> None:
    op.execute(
        """UPDATE signalement s SET description = r.description_original
           FROM signalement_reporter r
           WHERE r.signalement_id = s.id AND r.description_original IS NOT NULL"""
    )
    op.drop_column("signalement_reporter", "description_original")
