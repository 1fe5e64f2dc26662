"""account security: token versions, login throttling, votes of unconfirmed accounts

- `app_user.token_version`: put in every access token and checked on each request;
  a password change or reset and "se déconnecter partout" bump it, which revokes
  every token issued before.
- `login_throttle`: failed sign-ins per (account, address) and per address, shared
  by every app process (replaces the per-account lock that shut out the owner too).
- votes of unconfirmed accounts carry the flag `unconfirmed` and do not count in
  `contribution.votes_for/against`; confirming the address clears the flag (trigger
  on `app_user`), and the vote counts from then on.

Revision ID: v016
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "v016"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("accountsecurity",)
depends_on: str | Sequence[str] | None = ("c001",)

VOTE_COUNTS = """
CREATE OR REPLACE FUNCTION contribution_vote_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A vote counts unless its account's address is unconfirmed.
  IF TG_OP IN ('UPDATE', 'DELETE') AND array_position(OLD.flags, 'unconfirmed') IS NULL THEN
    UPDATE contribution SET votes_for = votes_for - (OLD.value = 1)::int,
                            votes_against = votes_against - (OLD.value = -1)::int
     WHERE id = OLD.contribution_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND array_position(NEW.flags, 'unconfirmed') IS NULL THEN
    UPDATE contribution SET votes_for = votes_for + (NEW.value = 1)::int,
                            votes_against = votes_against + (NEW.value = -1)::int
     WHERE id = NEW.contribution_id;
  END IF;
  RETURN NULL;
END $$
"""
OLD_VOTE_COUNTS = """
CREATE OR REPLACE FUNCTION contribution_vote_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE contribution SET votes_for = votes_for - (OLD.value = 1)::int,
                            votes_against = votes_against - (OLD.value = -1)::int
     WHERE id = OLD.contribution_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE contribution SET votes_for = votes_for + (NEW.value = 1)::int,
                            votes_against = votes_against + (NEW.value = -1)::int
     WHERE id = NEW.contribution_id;
  END IF;
  RETURN NULL;
END $$
"""
CONFIRMED = """
CREATE FUNCTION app_user_confirmed_votes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE contribution_vote SET flags = array_remove(flags, 'unconfirmed')
   WHERE user_id = NEW.id AND 'unconfirmed' = ANY(flags);
  RETURN NULL;
END $$
"""


def _vote_trigger(columns: str) -> None:
    op.execute("DROP TRIGGER contribution_vote_counts ON contribution_vote")
    op.execute(
        f"CREATE TRIGGER contribution_vote_counts AFTER INSERT OR DELETE OR UPDATE OF {columns} "
        "ON contribution_vote FOR EACH ROW EXECUTE FUNCTION contribution_vote_counts()"
    )


def upgrade() -> None:
    op.add_column(
        "app_user",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.execute(VOTE_COUNTS)
    _vote_trigger("value, contribution_id, flags")
    op.execute(CONFIRMED)
    op.execute(
        "CREATE TRIGGER app_user_confirmed_votes AFTER UPDATE OF email_verified ON app_user "
        "FOR EACH ROW WHEN (NEW.email_verified AND NOT OLD.email_verified) "
        "EXECUTE FUNCTION app_user_confirmed_votes()"
    )
    # Votes already cast by unconfirmed accounts stop counting until they confirm.
    op.execute(
        "UPDATE contribution_vote v SET flags = array_append(v.flags, 'unconfirmed') "
        "FROM app_user u WHERE u.id = v.user_id AND NOT u.email_verified "
        "AND array_position(v.flags, 'unconfirmed') IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER app_user_confirmed_votes ON app_user")
    op.execute("DROP FUNCTION app_user_confirmed_votes()")
    op.execute(
        "UPDATE contribution_vote SET flags = array_remove(flags, 'unconfirmed') "
        "WHERE 'unconfirmed' = ANY(flags)"
    )  # counted again by the trigger still in place
    op.execute(OLD_VOTE_COUNTS)
    _vote_trigger("value, contribution_id")
    op.drop_table("login_throttle")
    op.drop_column("app_user", "token_version")
