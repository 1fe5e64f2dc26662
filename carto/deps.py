"""The request dependencies every router shares: which session (primary, replica, reader
pool), the bbox of a read, the public base URL of e-mailed links, the client's address.

The caller (who signed in, with which roles) is `carto.accounts.deps`: it needs the
accounts' tables, a layer above this module (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from carto.db import SessionDep, get_session
from carto.geo import LngLatBBox, parse_bbox
from carto.scaling.routing import reads_from_replica

__all__ = [
    "BaseUrl",
    "BBoxDep",
    "ClientAddress",
    "PublicSessionDep",
    "ReadSessionDep",
    "SessionDep",
    "base_url",
    "client_address",
    "get_session",
]


async def get_read_session(request: Request, session: SessionDep) -> AsyncIterator[AsyncSession]:
    """A session for a public read: on the replica (`CARTO_READ_DATABASE_URL`) when
    `carto.scaling.routing` allows it, else the request's primary session (opened lazily,
    so an anonymous replica read never touches the primary). Never write through it."""
    maker: async_sessionmaker[AsyncSession] | None = getattr(
        request.app.state, "read_sessionmaker", None
    )
    if maker is None or not reads_from_replica(request):
        yield session
        return
    async with maker() as replica:
        yield replica


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


async def get_public_session(request: Request, session: SessionDep) -> AsyncIterator[AsyncSession]:
    """A session for an anonymous read of the `public_layers` views (exports): the replica
    when `carto.scaling.routing` allows it, else the reader role's own small pool (which
    can read nothing else), else the request's session (the test harness's borrowed one)."""
    maker: async_sessionmaker[AsyncSession] | None
    if reads_from_replica(request):  # only when a replica (and its sessionmaker) is set
        maker = request.app.state.read_sessionmaker
    else:
        maker = getattr(request.app.state, "reader_sessionmaker", None)
    if maker is None:
        yield session
        return
    async with maker() as public:
        yield public


PublicSessionDep = Annotated[AsyncSession, Depends(get_public_session)]


def optional_bbox(
    bbox: Annotated[
        str | None, Query(max_length=200, description="ouest,sud,est,nord (degrés WGS84)")
    ] = None,
) -> LngLatBBox | None:
    """The `bbox` query parameter, parsed by `carto.geo.parse_bbox` (None when absent)."""
    return parse_bbox(bbox) if bbox else None


BBoxDep = Annotated[LngLatBBox | None, Depends(optional_bbox)]


def base_url(request: Request) -> str:
    """Where links in e-mails point: CARTO_PUBLIC_URL (carto.hosts), never the Host header."""
    return str(request.app.state.public_url)


BaseUrl = Annotated[str, Depends(base_url)]


def client_address(conn: HTTPConnection) -> str | None:
    """The peer's address as the ASGI server gives it (behind the proxy: the proxy's
    `--forwarded-allow-ips` decides), or None when the server does not know it."""
    return conn.client.host if conn.client else None


ClientAddress = Annotated[str | None, Depends(client_address)]
