"""national: the SIREN of the body holding each département and région

`carto import france` writes it from the shipped tables (SIRENE numbers); several
areas may share a body and its authority (the Collectivité européenne d'Alsace for
the Bas-Rhin and the Haut-Rhin, the Collectivité de Corse, the Ville de Paris).

Revision ID: dd02
Revises: dd01
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dd02"
down_revision: str | None = "dd01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("departement", "region"):
        op.add_column(table, sa.Column("siren", sa.String(9)))


def downgrade() -> None:
    for table in ("departement", "region"):
        op.drop_column(table, "siren")
