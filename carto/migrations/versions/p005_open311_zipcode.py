"""Open311 `zipcode`: the postcode of the nearest address, else the commune's

Revision ID: p005
Revises: p004
Create Date: 2026-12-07

GeoReport's `zipcode` was always null. The ticket page view gains it: the postcode of
the nearest BAN address within 50 m when `carto import addresses` has run, else the
postcode the commune (or Lyon's, Paris's, Marseille's arrondissement) is known by (the
smallest of the postcode table every deployment has). Inline subqueries, not
`carto_main_postcode`: a function runs with its caller's rights, and the reader may not
read the postcode table; a view's own subqueries run with the view owner's. Appended at
the end of the view, as CREATE OR REPLACE VIEW requires.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "p005"
down_revision: str | None = "p004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("q001",)  # geocode_address, geocode_postcode

_spec = importlib.util.spec_from_file_location(
    "p003", Path(__file__).with_name("p003_public_jurisdictions.py")
)
assert _spec is not None and _spec.loader is not None
p003 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(p003)  # the view's text lives there once

ZIPCODE = """,
               COALESCE(
                   (SELECT n.postcode FROM (
                        SELECT ad.postcode, ad.geom FROM public.geocode_address ad
                        ORDER BY ad.geom <-> s.geom LIMIT 1) n
                    WHERE ST_DWithin(n.geom::geography, s.geom::geography, 50)),
                   (SELECT min(gp.postcode) FROM public.geocode_postcode gp
                    WHERE gp.insee = COALESCE(s.arrondissement_insee, s.commune_insee))
               ) AS zipcode"""


def upgrade() -> None:
    body = p003.PAGES.format(extra=p003.EXTRA + ZIPCODE)
    op.execute(f"CREATE OR REPLACE VIEW public_layers.signalement_pages AS {body}")


def downgrade() -> None:
    op.execute("DROP VIEW public_layers.signalement_pages")
    op.execute(
        f"CREATE VIEW public_layers.signalement_pages AS {p003.PAGES.format(extra=p003.EXTRA)}"
    )
    op.execute(
        "COMMENT ON VIEW public_layers.signalement_pages IS"
        " 'Page publique (sans géométrie : pas une couche cartographique).'"
    )
