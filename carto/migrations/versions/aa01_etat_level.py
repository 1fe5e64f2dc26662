"""routing: an `etat` level for the national defaults (routes nationales, autoroutes)

The État's roads (code de la voirie routière L121-1, autoroutes L122-1) are neither
the commune's nor the département's: a `voirie` report on them must not be sent to the
commune as if it were competent. The État has no account in Carto, so a default of
level `etat` hands the report to the platform's « à orienter » queue, with the legal
basis in the explanation; administrators cannot name this level.

Revision ID: aa01
Revises: r003
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "aa01"
down_revision: str | None = "r003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_competence_rule_level_known"


def upgrade() -> None:
    op.drop_constraint(op.f(NAME), "competence_rule", type_="check")
    op.create_check_constraint(
        op.f(NAME),
        "competence_rule",
        "level IN ('commune', 'intercommunalite', 'departement', 'authority', 'etat')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM competence_rule WHERE level = 'etat'")
    op.drop_constraint(op.f(NAME), "competence_rule", type_="check")
    op.create_check_constraint(
        op.f(NAME),
        "competence_rule",
        "level IN ('commune', 'intercommunalite', 'departement', 'authority')",
    )
