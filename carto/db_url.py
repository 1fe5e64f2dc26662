"""Database URLs for each driver, apart from `carto.db` so that a command which only needs a
URL (the CLI's database check, the importers' psycopg connection) loads SQLAlchemy's URL
parser without FastAPI and the ORM."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def with_driver(url: str, driver: str) -> URL:
    """`url` (any postgres scheme, libpq form included) rewritten for `driver`."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.drivername}")
    return parsed.set(drivername=f"postgresql+{driver}")


def libpq_url(url: str) -> str:
    """The plain `postgresql://` form that psql, QGIS and psycopg.connect accept."""
    return (
        with_driver(url, "psycopg")
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
