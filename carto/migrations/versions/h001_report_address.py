"""signalement.address_*: the address of every report, and the `address` history event

Revision ID: h001
Revises: y001
Create Date: 2026-12-07

Every new report gets an address at intake (reverse geocoding of its point, or the one
the citizen typed or picked), kept in the fields of a Base Adresse Nationale feature so
that Open311 (`address`, `zipcode`), the exports and the agent's screens read one stored
value: label, type, housenumber, street, postcode, citycode, city, plus where it came
from (`reverse`, `citizen`, `staff`). Staff may correct it: a `signalement_event` of kind
`address` records each correction; its term and the sources' labels are synced here. Older tickets
keep NULLs (a backfill would geocode millions of rows in a migration).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carto.vocabulary.table import sync

revision: str = "h001"
down_revision: str | None = "y001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("c002",)  # the vocabulary table

COLUMNS = (
    ("address_label", 300), ("address_type", 20), ("address_housenumber", 30),
    ("address_street", 300), ("address_postcode", 5), ("address_citycode", 5),
    ("address_city", 200), ("address_source", 10),
)  # fmt: skip
KIND = "ck_signalement_event_kind_known"


def _kinds(kinds: str) -> None:
    """Replace the event kinds' check, whatever s001's naming convention made of its name
    (raw SQL: Alembic's helpers would prefix the convention once more)."""
    op.execute(
        """
        DO $$
        DECLARE c text;
        BEGIN
            FOR c IN SELECT conname FROM pg_constraint
                     WHERE conrelid = 'public.signalement_event'::regclass AND contype = 'c'
                       AND pg_get_constraintdef(oid) LIKE '%kind%'
            LOOP
                EXECUTE format('ALTER TABLE public.signalement_event DROP CONSTRAINT %I', c);
            END LOOP;
        END $$;
        """
    )
    op.execute(f"ALTER TABLE signalement_event ADD CONSTRAINT {KIND} CHECK (kind IN ({kinds}))")


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column("signalement", sa.Column(name, sa.String(length)))
    op.execute(
        "ALTER TABLE signalement ADD CONSTRAINT ck_signalement_address_source_known"
        " CHECK (address_source IN ('reverse', 'citizen', 'staff'))"
    )
    _kinds("'state', 'transfer', 'merge', 'address'")
    sync(op.get_bind())


def downgrade() -> None:
    op.execute("DELETE FROM signalement_event WHERE kind = 'address'")
    # The vocabulary rows stay: unused terms are harmless, and the next sync rewrites them.
    _kinds("'state', 'transfer', 'merge'")
    op.execute("ALTER TABLE signalement DROP CONSTRAINT ck_signalement_address_source_known")
    for name, _ in reversed(COLUMNS):
        op.drop_column("signalement", name)
