"""`carto` starts without the heavy libraries: they load inside the commands using them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("geopandas", "pandas", "pyogrio", "shapely", "numpy", "folium", "osmnx", "networkx",
         "sqlalchemy", "alembic", "geoalchemy2", "fastapi", "uvicorn", "pydantic_settings",
         "psycopg", "carto.models", "carto.app")  # fmt: skip


def test_the_command_module_imports_no_heavy_library():
    code = "import sys, json, carto.cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    loaded = set(json.loads(done.stdout))
    assert "typer" in loaded  # the probe sees the command's own imports
    assert sorted(m for m in HEAVY if m in loaded) == []
