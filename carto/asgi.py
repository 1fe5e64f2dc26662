"""ASGI entry for multi-process serving (`carto serve --workers N`, gunicorn, etc.).

Each worker process builds its app from the environment; the parent CLI puts the
resolved database URL and data dir there, so workers never start a cluster.
"""

from __future__ import annotations

from fastapi import FastAPI

from carto.app import create_app
from carto.runtime import database_url
from carto.settings import Settings


def create_app_from_env() -> FastAPI:
    settings = Settings()
    return create_app(settings, db_url=database_url(settings), freeze_heap=True)
