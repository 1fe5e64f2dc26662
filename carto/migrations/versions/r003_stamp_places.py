"""routing: arrondissements and postcodes stamp the routing version too

The bulk path caches every place's attributes (names, postcodes, arrondissement
outlines) and the decisions made there until the routing version changes, so a
write to `arrondissement` (a territory: both stamps, as `commune`) or to
`geocode_postcode` (the postcode shown in an explanation) must change it as well.
The trigger function is r002's.

Revision ID: r003
Revises: cc01
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "r003"
down_revision: str | None = "cc01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("q001",)  # geocode_postcode

TABLES = ("arrondissement", "geocode_postcode")


def _bump_function(territory_test: str) -> str:
    """The trigger function: every routing write changes `version`; writes to the tables
    `territory_test` names change `territories` too."""
    return f"""CREATE OR REPLACE FUNCTION routing_version_bump() RETURNS trigger
           LANGUAGE plpgsql AS $$
           BEGIN
               IF {territory_test} THEN
                   UPDATE routing_version
                   SET version = gen_random_uuid(), territories = gen_random_uuid() WHERE id = 1;
               ELSE
                   UPDATE routing_version SET version = gen_random_uuid() WHERE id = 1;
               END IF;
               RETURN NULL;
           END $$"""


def upgrade() -> None:
    op.execute(_bump_function("TG_TABLE_NAME IN ('commune', 'arrondissement')"))
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER routing_version_{table} "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION routing_version_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS routing_version_{table} ON {table}")
    op.execute(_bump_function("TG_TABLE_NAME = 'commune'"))
