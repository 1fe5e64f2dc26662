"""tiles: restyling or renaming a reference layer refreshes its features' tiles

Reference-feature tiles carry their layer's slug, role and colour and their concertation's slug (the view
`public_layers.reference_features` joins `reference_layer`), but only writes to
`reference_feature` refreshed them: a layer recoloured by its organiser kept its old
colour in the simplified copies and in the tile cache. A row trigger on
`reference_layer` now touches the layer's features when one of those columns changes
(or the layer moves to another concertation), so the feature table's own statement
trigger rebuilds their simplified copies and invalidates exactly their tiles, by the
same path as an edit of the features themselves.

Revision ID: g006
Revises: g005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "g006"
down_revision: str | None = "g005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION tiles.on_reference_layer_row() RETURNS trigger
LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    -- A no-op update of the layer's features: their statement trigger re-reads them
    -- from the public view (new style) and invalidates the tiles they are drawn on.
    UPDATE public.reference_feature SET layer_id = layer_id WHERE layer_id = NEW.id;
    RETURN NULL;
END $$;
"""

TRIGGER = """
CREATE TRIGGER tiles_reference_layer_style AFTER UPDATE ON public.reference_layer
FOR EACH ROW WHEN (
    (OLD.slug, OLD.role, OLD.color, OLD.concertation_id)
    IS DISTINCT FROM (NEW.slug, NEW.role, NEW.color, NEW.concertation_id)
) EXECUTE FUNCTION tiles.on_reference_layer_row();
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tiles_reference_layer_style ON public.reference_layer")
    op.execute("DROP FUNCTION IF EXISTS tiles.on_reference_layer_row()")
