"""Titles and descriptions of the territory layers (comments on the public views)

The OGC API and the exports read a view's comment: first line = title, the rest =
description. Feature packages comment their own views the same way.

Revision ID: l002
Revises: l001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "l002"
down_revision: str | None = "l001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMENTS = {
    "communes": (
        "Communes\n"
        "Limites des communes des territoires servis, avec leur code INSEE, leur population "
        "et la collectivité compétente."
    ),
    "arrondissements": (
        "Arrondissements municipaux\n"
        "Arrondissements municipaux (Lyon, Paris, Marseille) avec leur commune de rattachement."
    ),
    "intercommunalites": (
        "Intercommunalités\n"
        "Métropoles et établissements publics territoriaux, avec leur nombre de communes "
        "et leur population."
    ),
}


def upgrade() -> None:
    for view, comment in COMMENTS.items():
        quoted = comment.replace("'", "''")
        op.execute(f"COMMENT ON VIEW public_layers.{view} IS '{quoted}'")


def downgrade() -> None:
    for view in COMMENTS:
        op.execute(f"COMMENT ON VIEW public_layers.{view} IS NULL")
