"""Turns every failure into a clear JSON 4xx/5xx answer; registered once by the app factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from carto.errors import CartoError, is_data_error
from carto.request_id import with_request_id
from carto.validation_fr import french_errors

log = logging.getLogger("carto.errors")


def validation_messages(exc: RequestValidationError) -> list[dict[str, str]]:
    """Pydantic's errors reduced to what a client can act on, in French (no input
    echoed back)."""
    return french_errors(exc.errors())


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CartoError)
    async def _carto_error(request: Request, exc: CartoError) -> JSONResponse:
        if exc.detail:
            log.info("%s: %s", exc.code, exc.detail)
        body = {"error": exc.code, "message": exc.message, **exc.extra}
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        if exc.extra.get("retry_after") is not None:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {
                "error": "invalid_input",
                "message": "Requête invalide : vérifiez les champs indiqués.",
                "errors": validation_messages(exc),
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if is_data_error(exc):
            log.info("data error on %s %s: %s", request.method, request.url.path, exc.orig)
            return JSONResponse(
                with_request_id(
                    {"error": "invalid_input", "message": "Valeur invalide ou hors limites."}
                ),
                status_code=422,
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal", "message": "Erreur interne ; elle a été journalisée."},
            status_code=500,
        )
