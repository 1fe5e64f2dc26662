"""An author's vote on their own contribution is kept but never counted.

The contract's `POST /api/v1/contributions/{id}/votes` takes one vote per participant
(the author included: `contract-check` votes on the contribution it just made), while
issue 21 found that an author's own vote inflated their contribution. The vote is
stored flagged `own`, answered `counted: false`, and the counters leave it out, as they
leave out an unconfirmed account's vote (v016).

Revision ID: v017
Revises: v016
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "v017"
down_revision: str | None = "v016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOTE_COUNTS = """
CREATE OR REPLACE FUNCTION contribution_vote_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A vote counts unless its account's address is unconfirmed or it is the author's own.
  IF TG_OP IN ('UPDATE', 'DELETE') AND NOT (OLD.flags && ARRAY['unconfirmed', 'own']::varchar[])
  THEN
    UPDATE contribution SET votes_for = votes_for - (OLD.value = 1)::int,
                            votes_against = votes_against - (OLD.value = -1)::int
     WHERE id = OLD.contribution_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NOT (NEW.flags && ARRAY['unconfirmed', 'own']::varchar[])
  THEN
    UPDATE contribution SET votes_for = votes_for + (NEW.value = 1)::int,
                            votes_against = votes_against + (NEW.value = -1)::int
     WHERE id = NEW.contribution_id;
  END IF;
  RETURN NULL;
END $$
"""


V016_COUNTS = VOTE_COUNTS.replace(
    "-- A vote counts unless its account's address is unconfirmed or it is the author's own.",
    "-- A vote counts unless its account's address is unconfirmed.",
).replace("ARRAY['unconfirmed', 'own']", "ARRAY['unconfirmed']")


def upgrade() -> None:
    op.execute(VOTE_COUNTS)
    # Authors' votes already cast stop counting (the trigger takes them off the counters).
    op.execute(
        "UPDATE contribution_vote v SET flags = array_append(v.flags, 'own') "
        "FROM contribution c WHERE c.id = v.contribution_id AND c.author_id = v.user_id "
        "AND array_position(v.flags, 'own') IS NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE contribution_vote SET flags = array_remove(flags, 'own') WHERE 'own' = ANY(flags)"
    )  # counted again by the trigger still in place
    op.execute(V016_COUNTS)
