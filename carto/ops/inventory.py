"""What a database holds, as a manifest can state it: tables, row counts, checksums.

Computed inside one snapshot (the one `pg_dump` is given), so the manifest describes
exactly the rows of the archive; and again after a restore, to prove it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

# Derived, transaction-bound data: not in the archive (its xid8 values mean nothing in
# another cluster); the tile cache refills on demand, the write log starts empty.
EXCLUDED_DATA = ("tiles.tile_cache", "tiles.write_log")
# Reset at restore: the log horizon is an xid8 of the cluster that wrote it.
RESET_AT_RESTORE = ("tiles.log_horizon",)

TABLES = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""
# Order-independent and constant-memory: the sum of each row's text form's hash (rows'
# text output is stable for a given session time zone, set to UTC here).
CHECKSUM = (
    "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric)"
    ", 0)::text FROM ONLY {} AS t"
)


def table_sums(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """`{"schema.table": {"rows": n, "checksum": "..."}}` for every table of the database
    (partitions included, tables of extensions such as spatial_ref_sys left out)."""
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    conn.execute("SET LOCAL extra_float_digits = 1")
    out: dict[str, dict[str, Any]] = {}
    for schema, name in conn.execute(TABLES).fetchall():
        query = sql.SQL(CHECKSUM).format(sql.Identifier(schema, name))
        row = conn.execute(query).fetchone()
        assert row is not None
        out[f"{schema}.{name}"] = {"rows": int(row[0]), "checksum": row[1]}
    return out


def heads(conn: psycopg.Connection[Any]) -> list[str]:
    """The Alembic revisions recorded in the database (empty when never migrated)."""
    exists = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()
    if not exists or exists[0] is None:
        return []
    return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))


def user_tables(conn: psycopg.Connection[Any]) -> int:
    """How many tables the database holds outside extensions: 0 is an empty database."""
    return len(conn.execute(TABLES).fetchall())


def differences(expected: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]) -> list[str]:
    """The tables whose rows or checksum differ (excluded and reset tables aside)."""
    skip = set(EXCLUDED_DATA) | set(RESET_AT_RESTORE)
    out = []
    for table in sorted(set(expected) | set(found)):
        if table in skip:
            continue
        want, got = expected.get(table), found.get(table)
        if want != got:
            out.append(f"{table} : attendu {want}, trouvé {got}")
    return out
