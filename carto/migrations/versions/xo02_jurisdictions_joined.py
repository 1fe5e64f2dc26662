"""public_layers.jurisdictions computed by joins: every Open311 call naming a
`jurisdiction_id` looked it up in 0.4-0.6 s once France is loaded, because the view
computed each authority's SIREN and areas by correlated subqueries over all 36,000
authorities before filtering; the same columns from three grouped joins take about 15 ms.
Same columns, same values (CREATE OR REPLACE VIEW keeps the grants and the comment).

Revision ID: xo02
Revises: aa03
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from alembic import op

revision: str = "xo02"
down_revision: str | None = "aa03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = """
        WITH d AS (SELECT authority_id, min(siren) AS siren FROM public.departement
                   WHERE authority_id IS NOT NULL GROUP BY authority_id),
             r AS (SELECT authority_id, min(siren) AS siren FROM public.region
                   WHERE authority_id IS NOT NULL GROUP BY authority_id),
             held AS (SELECT authority_id, array_agg(DISTINCT code::text ORDER BY code::text)
                          AS codes
                      FROM (SELECT authority_id, code FROM public.departement
                            UNION SELECT authority_id, code FROM public.region) x
                      WHERE authority_id IS NOT NULL GROUP BY authority_id)
        SELECT a.id, a.slug, a.code, a.name,
               EXISTS (SELECT 1 FROM public.service sv WHERE sv.authority_id = a.id) AS has_service,
               coalesce(CASE WHEN a.kind = 'intercommunalite' THEN a.code END, d.siren, r.siren)
                   AS siren,
               coalesce(held.codes, '{}'::text[]) AS area_codes
        FROM public.authority a
        LEFT JOIN d ON d.authority_id = a.id
        LEFT JOIN r ON r.authority_id = a.id
        LEFT JOIN held ON held.authority_id = a.id
        WHERE a.kind <> 'plateforme'
          AND (a.kind NOT IN ('departement', 'region')
               OR d.authority_id IS NOT NULL OR r.authority_id IS NOT NULL)
"""


def _previous() -> str:
    spec = spec_from_file_location("aa03", Path(__file__).with_name("aa03_jurisdiction_sirens.py"))
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.NEW)


def upgrade() -> None:
    op.execute(f"CREATE OR REPLACE VIEW public_layers.jurisdictions AS {NEW}")


def downgrade() -> None:
    op.execute(f"CREATE OR REPLACE VIEW public_layers.jurisdictions AS {_previous()}")
