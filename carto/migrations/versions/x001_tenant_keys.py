"""tenant keys for a distributed (Citus) deployment: concertation_id on reactions

Every large table must carry the key it would be distributed by (docs/scaling.md):
the signalement side already carries `authority_id` on every table; here the
concertation side gets `concertation_id` on votes, supports and comments, filled from
their contribution, NOT NULL, and tied to it by a composite foreign key
(concertation_id, contribution_id) -> contribution (concertation_id, id), the form
Citus needs between co-located tables. The code sets the column in its INSERT; a
trigger fills it only for statements that do not (seeds, psql), and its WHEN clause
keeps it from running at all otherwise.

Revision ID: x001
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "x001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("scaling",)
depends_on: str | Sequence[str] | None = ("c001",)

REACTIONS = ("contribution_vote", "contribution_support", "contribution_comment")

FILL = """
CREATE FUNCTION fill_concertation_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT concertation_id INTO NEW.concertation_id FROM contribution
    WHERE id = NEW.contribution_id;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    op.execute(
        "ALTER TABLE contribution ADD CONSTRAINT uq_contribution_tenant "
        "UNIQUE (concertation_id, id)"
    )
    op.execute(FILL)
    for table in REACTIONS:
        op.execute(f"ALTER TABLE {table} ADD COLUMN concertation_id integer")
        op.execute(
            f"UPDATE {table} t SET concertation_id = c.concertation_id "
            "FROM contribution c WHERE c.id = t.contribution_id"
        )
        op.execute(f"ALTER TABLE {table} ALTER COLUMN concertation_id SET NOT NULL")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_tenant "
            "FOREIGN KEY (concertation_id, contribution_id) "
            "REFERENCES contribution (concertation_id, id) ON DELETE CASCADE"
        )
        op.execute(f"CREATE INDEX ix_{table}_tenant ON {table} (concertation_id, contribution_id)")
        op.execute(
            f"CREATE TRIGGER {table}_tenant BEFORE INSERT ON {table} FOR EACH ROW "
            "WHEN (NEW.concertation_id IS NULL) EXECUTE FUNCTION fill_concertation_id()"
        )


def downgrade() -> None:
    for table in REACTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_tenant ON {table}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN concertation_id")
    op.execute("DROP FUNCTION IF EXISTS fill_concertation_id()")
    op.execute("ALTER TABLE contribution DROP CONSTRAINT uq_contribution_tenant")
