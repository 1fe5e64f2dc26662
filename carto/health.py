"""`GET /healthz`: 200 once the database answers and is migrated to the code's head."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from carto.runtime import alembic_config

router = APIRouter(tags=["health"])


def expected_heads() -> frozenset[str]:
    """Every branch head the code knows; the database must be at all of them."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def applied_revisions(current: frozenset[str]) -> frozenset[str]:
    """Every revision the recorded ones imply. Alembic records only the tips: a head
    that another branch `depends_on` is applied without its own row."""
    script = ScriptDirectory.from_config(alembic_config())
    if not current:
        return frozenset()
    return frozenset(rev.revision for rev in script.iterate_revisions(tuple(current), "base"))


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    heads = request.app.state.expected_heads
    try:
        async with request.app.state.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            current = frozenset(rows.scalars())
    except Exception as exc:  # any failure here means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
    try:
        ready = heads <= applied_revisions(current)
    except Exception:  # a revision the code does not know: the database is ahead
        ready = False
    if not ready:
        return JSONResponse(
            {"status": "migrating", "database": sorted(current), "code": sorted(heads)}, 503
        )
    return JSONResponse({"status": "ok", "revisions": sorted(current)})
