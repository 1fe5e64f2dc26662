"""Database plumbing: the declarative base, engines for both drivers, the session dependency
(the replica and reader-pool sessions are `carto.deps`, which knows the replica's rules).

The web app talks to PostGIS through asyncpg (async SQLAlchemy); the CLI, the
importers and Alembic use psycopg 3 (sync, COPY). Both read one URL: whatever
driver a user writes in `CARTO_DATABASE_URL`, we derive the one we need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from carto.db_url import libpq_url as libpq_url
from carto.db_url import with_driver as with_driver

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table, with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_sync_engine(url: str, **kwargs: object) -> Engine:
    return create_engine(with_driver(url, "psycopg"), pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]


def _drop_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server closed is replaced at checkout, without a round trip:
    asyncpg notices the socket's end itself. (pool_pre_ping costs BEGIN, SELECT, ROLLBACK
    on every checkout: three round trips, about a fifth of a report's intake time.)"""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("connection closed by the server")


def make_async_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, application_name: str = "carto"
) -> AsyncEngine:
    """The app's engine. JIT is off: PostGIS cost estimates make PostgreSQL compile small
    OLTP queries (the routing statement, triggers), which costs far more than it saves.

    At most `pool_size + max_overflow` connections, all kept once opened: a pool that
    closes its overflow connections when they come back (QueuePool's way) made a busy
    worker open 3 to 7 new connections a second under load (32 clients), each one a
    backend start, a TLS probe and every statement prepared again."""
    engine = create_async_engine(
        with_driver(url, "asyncpg"),
        pool_size=pool_size + max_overflow,
        max_overflow=0,
        connect_args={"server_settings": {"application_name": application_name, "jit": "off"}},
    )
    event.listen(engine.sync_engine.pool, "checkout", _drop_closed)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, from the sessionmaker the lifespan put on app.state."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
