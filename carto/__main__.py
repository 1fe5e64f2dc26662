"""`python -m carto` is the `carto` command."""

from carto.cli import app

app()
