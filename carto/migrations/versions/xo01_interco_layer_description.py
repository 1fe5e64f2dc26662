"""The intercommunalities layer describes what it holds since `carto import france`: every
kind of intercommunality, not only métropoles and EPT (QGIS, ogrinfo and the exports
show this comment)

Revision ID: xo01
Revises: l002
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "xo01"
down_revision: str | None = "l002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = (
    "Intercommunalités\n"
    "Intercommunalités (métropoles, communautés urbaines, d''agglomération et de communes, "
    "établissements publics territoriaux du Grand Paris), avec leur nature, leur nombre de "
    "communes et leur population."
)
OLD = (
    "Intercommunalités\n"
    "Métropoles et établissements publics territoriaux, avec leur nombre de communes "
    "et leur population."
)


def upgrade() -> None:
    op.execute(f"COMMENT ON VIEW public_layers.intercommunalites IS '{NEW}'")


def downgrade() -> None:
    op.execute(f"COMMENT ON VIEW public_layers.intercommunalites IS '{OLD}'")
