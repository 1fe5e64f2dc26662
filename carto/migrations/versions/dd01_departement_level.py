"""routing: a `departement` level for competence rules (routes départementales)

A national default can now name the département of the commune a report falls in:
`voirie` on a route départementale goes to the département (code de la voirie
routière L131-1 s.) outside the métropoles that took their RD over. The rule set
reads the départements' authorities, so writes to `departement` stamp a new routing
version like the other tables the rule set is built from (r002).

Revision ID: dd01
Revises: f001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "dd01"
down_revision: str | None = "f001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_competence_rule_level_known"


def upgrade() -> None:
    op.drop_constraint(op.f(NAME), "competence_rule", type_="check")
    op.create_check_constraint(
        op.f(NAME),
        "competence_rule",
        "level IN ('commune', 'intercommunalite', 'departement', 'authority')",
    )
    op.execute(
        "CREATE TRIGGER routing_version_departement "
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON departement "
        "FOR EACH STATEMENT EXECUTE FUNCTION routing_version_bump()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS routing_version_departement ON departement")
    op.execute("DELETE FROM competence_rule WHERE level = 'departement'")
    op.drop_constraint(op.f(NAME), "competence_rule", type_="check")
    op.create_check_constraint(
        op.f(NAME), "competence_rule", "level IN ('commune', 'intercommunalite', 'authority')"
    )
