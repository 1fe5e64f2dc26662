"""`GET /healthz`: 200 once the database answers and is migrated to the code's head."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from carto.runtime import alembic_config

router = APIRouter(tags=["health"])


def expected_head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    head = request.app.state.expected_head
    try:
        async with request.app.state.engine.connect() as conn:
            current = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception as exc:  # any failure here means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
    if current != head:
        return JSONResponse({"status": "migrating", "database": current, "code": head}, 503)
    return JSONResponse({"status": "ok", "revision": current})
