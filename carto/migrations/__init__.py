"""Alembic migrations (run by `carto db upgrade` and at every `carto demo`/`carto serve`)."""
