"""The reports' addresses in the public views; Open311's zipcode from the stored address

Revision ID: h002
Revises: p005
Create Date: 2026-12-07

The address of the reported place is not personal data (it is the place, not the
reporter): `signalement_pages` (public page, Open311) gains the stored address fields
and its `zipcode` takes the stored postcode first (p005's lookups remain for tickets
older than addresses); the map layer `signalements` (OGC API, exports, tiles) gains
`address` (the label, else the typed text) and `postcode`. Appended at the end of each
view, as CREATE OR REPLACE VIEW requires.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "h002"
down_revision: str | None = "p005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("h001",)  # signalement.address_*


def _load(name: str, file: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(file))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the views' text lives there once
    return module


p003 = _load("p003", "p003_public_jurisdictions.py")
p005 = _load("p005", "p005_open311_zipcode.py")
s001 = _load("s001", "s001_signalements.py")

ZIPCODE = p005.ZIPCODE.replace("COALESCE(", "COALESCE(s.address_postcode::varchar,", 1)
ADDRESS = """,
               s.address_label, s.address_type, s.address_housenumber, s.address_street,
               s.address_postcode, s.address_citycode, s.address_city, s.address_source"""
LAYER = s001.PUBLIC_VIEW.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1).replace(
    "s.supports, s.geom, s.geom_3857",
    "s.supports, s.geom, s.geom_3857,\n"
    "       COALESCE(s.address_label, s.address_string) AS address,"
    " s.address_postcode AS postcode",
    1,
)


def _pages(extra: str) -> str:
    return f"CREATE OR REPLACE VIEW public_layers.signalement_pages AS {p003.PAGES.format(extra=extra)}"


def upgrade() -> None:
    assert "AS address," in LAYER and "address_postcode::varchar" in ZIPCODE
    op.execute(_pages(p003.EXTRA + ZIPCODE + ADDRESS))
    op.execute(LAYER)


def downgrade() -> None:
    op.execute("DROP VIEW public_layers.signalement_pages")
    op.execute(_pages(p003.EXTRA + p005.ZIPCODE).replace("CREATE OR REPLACE", "CREATE", 1))
    op.execute(
        "COMMENT ON VIEW public_layers.signalement_pages IS"
        " 'Page publique (sans géométrie : pas une couche cartographique).'"
    )
    comment = s001.VIEW_COMMENT.replace("'", "''")
    op.execute("DROP VIEW public_layers.signalements")
    op.execute(s001.PUBLIC_VIEW)
    op.execute(f"COMMENT ON VIEW public_layers.signalements IS '{comment}'")
