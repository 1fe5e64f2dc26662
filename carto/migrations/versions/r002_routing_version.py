"""routing: a version stamp of the routing data, so app processes can cache the rule set

Every write to the tables the rule set is built from (rules, services, authorities,
categories, intercommunalities and their members, communes) stamps a fresh random
version in one row; the single-report query reads it and the process reloads its
cached rule set when it differs. A second stamp changes with communes only: the
bulk path's point locator (a grid over all communes) is kept until it changes.
Random UUIDs, not counters: a rolled-back change must never leave a stamp that a
later, different change would reuse.

Revision ID: r002
Revises: r001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "r002"
down_revision: str | None = "r001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "competence_rule",
    "service",
    "authority",
    "category",
    "intercommunalite",
    "intercommunalite_member",
    "commune",
)


def upgrade() -> None:
    op.execute(
        """CREATE TABLE routing_version (
               id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
               version uuid NOT NULL DEFAULT gen_random_uuid(),
               territories uuid NOT NULL DEFAULT gen_random_uuid())"""
    )
    op.execute("INSERT INTO routing_version DEFAULT VALUES")
    op.execute(
        """CREATE FUNCTION routing_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
               IF TG_TABLE_NAME = 'commune' THEN
                   UPDATE routing_version
                   SET version = gen_random_uuid(), territories = gen_random_uuid() WHERE id = 1;
               ELSE
                   UPDATE routing_version SET version = gen_random_uuid() WHERE id = 1;
               END IF;
               RETURN NULL;
           END $$"""
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER routing_version_{table} "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION routing_version_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS routing_version_{table} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS routing_version_bump()")
    op.execute("DROP TABLE IF EXISTS routing_version")
