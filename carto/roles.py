"""The three database roles and where each URL comes from.

- *owner*: owns the schema, runs the migrations (DDL). `CARTO_DATABASE_URL`, or the
  embedded cluster's admin login.
- *app*: the write side (members of `carto_app`: DML, no DDL, no superuser).
- *reader*: every anonymous read path (members of `carto_reader`: SELECT on the
  `public_layers` views and the tile tables, read-only transactions, a statement
  timeout), on its own small pools.

The group roles and their grants come from the migration `p001`; login roles are
members of them: the embedded cluster makes its own (`carto.embedded`), an external
PostGIS gets them from its DBA (README, "Database roles") and names them in
`CARTO_APP_DATABASE_URL` and `CARTO_READER_DATABASE_URL`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from psycopg import Connection, sql

log = logging.getLogger("carto.roles")

Role = Literal["owner", "app", "reader"]
ROLES: tuple[Role, ...] = ("owner", "app", "reader")
GROUPS = {"app": "carto_app", "reader": "carto_reader"}
LOGINS = {"app": "carto_app_login", "reader": "carto_reader_login"}
READER_STATEMENT_TIMEOUT = "5s"
# Settings of a login role (ALTER ROLE ... SET): group roles' settings are not inherited.
LOGIN_SETTINGS: dict[str, dict[str, str]] = {
    "app": {},
    "reader": {
        "default_transaction_read_only": "on",
        "statement_timeout": READER_STATEMENT_TIMEOUT,
    },
}


def ensure_login_roles(conn: Connection[object], passwords: dict[str, str]) -> None:
    """Create (or reset) the LOGIN roles `carto_app_login` and `carto_reader_login` with
    these passwords, members of their group role (created NOLOGIN here if the migration
    has not run yet: both do it idempotently). Needs CREATEROLE; autocommit connection."""
    for role, password in passwords.items():
        group, login = sql.Identifier(GROUPS[role]), sql.Identifier(LOGINS[role])
        for name, attrs in ((GROUPS[role], "NOLOGIN"), (LOGINS[role], "LOGIN")):
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                continue
            conn.execute(sql.SQL("CREATE ROLE {} " + attrs).format(sql.Identifier(name)))
        conn.execute(
            sql.SQL(
                "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS INHERIT PASSWORD {}"
            ).format(login, sql.Literal(password))
        )
        conn.execute(sql.SQL("GRANT {} TO {}").format(group, login))
        for key, value in LOGIN_SETTINGS[role].items():
            conn.execute(
                sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    login, sql.Identifier(key), sql.Literal(value)
                )
            )


@dataclass(frozen=True)
class RoleUrls:
    """The libpq URLs the served app uses: writes as `app`, anonymous reads as `reader`."""

    owner: str
    app: str
    reader: str
