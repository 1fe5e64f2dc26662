"""database roles: carto_app (writes) and carto_reader (anonymous reads), least privilege

The role that runs the migrations owns the schema (the *owner*). This revision
creates two NOLOGIN group roles, if they do not exist yet (roles are cluster-wide),
and grants them what they need in this database:

- `carto_app`: DML on the tables of `public` and `tiles`, sequences, SELECT on
  `public_layers`; no DDL (it owns nothing and has no CREATE on any schema);
- `carto_reader`: SELECT on the `public_layers` views and the `tiles` tables
  (positions and counts only, what the public maps show); nothing else.

Views run with their owner's rights (none is `security_invoker`), which is how the
reader reads them without any right on the tables behind them.

Default privileges (for objects the owner creates later) grant the same to every
later migration's tables and views, so no later revision has to remember to. Login
roles (members of these groups) are the deployment's business: the embedded
cluster creates its own, the README gives the SQL for an external PostGIS.

Revision ID: p001
Revises: (none: depends on every other head)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "p001"
down_revision: str | None = None  # a base of its own: it follows every other branch
branch_labels: str | Sequence[str] | None = ("roles",)
# After every table of the other branches exists (their later tables get the defaults).
# The heads of today, minus those another head already depends on (c001, m001): Alembic
# forgets a dependency once a dependent is applied, and would fail to "replace" it.
depends_on: str | Sequence[str] | None = (
    "0002", "a001", "g008", "k001", "l002", "n001", "r002", "s002", "t001", "x001",
)  # fmt: skip

APP = "carto_app"
READER = "carto_reader"

UPGRADE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP}') THEN
        CREATE ROLE {APP} NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
        CREATE ROLE {READER} NOLOGIN;
    END IF;
END $$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;

GRANT USAGE ON SCHEMA public, tiles, public_layers TO {APP};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, tiles TO {APP};
REVOKE INSERT, UPDATE, DELETE ON public.alembic_version, public.spatial_ref_sys FROM {APP};
GRANT SELECT ON ALL TABLES IN SCHEMA public_layers TO {APP};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public, tiles TO {APP};

GRANT USAGE ON SCHEMA public_layers, tiles TO {READER};
GRANT SELECT ON ALL TABLES IN SCHEMA public_layers, tiles TO {READER};

ALTER DEFAULT PRIVILEGES IN SCHEMA public, tiles
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public, tiles GRANT USAGE, SELECT ON SEQUENCES TO {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public_layers GRANT SELECT ON TABLES TO {APP}, {READER};
ALTER DEFAULT PRIVILEGES IN SCHEMA tiles GRANT SELECT ON TABLES TO {READER};
"""

DOWNGRADE = f"""
ALTER DEFAULT PRIVILEGES IN SCHEMA tiles REVOKE SELECT ON TABLES FROM {READER};
ALTER DEFAULT PRIVILEGES IN SCHEMA public_layers REVOKE SELECT ON TABLES FROM {APP}, {READER};
ALTER DEFAULT PRIVILEGES IN SCHEMA public, tiles REVOKE USAGE, SELECT ON SEQUENCES FROM {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public, tiles
    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP};
REVOKE ALL ON ALL TABLES IN SCHEMA public, tiles, public_layers FROM {APP}, {READER};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public, tiles FROM {APP};
REVOKE USAGE ON SCHEMA public, tiles, public_layers FROM {APP}, {READER};
GRANT CREATE ON SCHEMA public TO PUBLIC;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    # The roles stay: they are cluster-wide and other databases may use them.
    op.execute(DOWNGRADE)
