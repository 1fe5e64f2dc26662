"""The whole of France imports in under 60 s (the foundation issue's bound); prints the time."""

from __future__ import annotations

import time

import pytest

from carto.territories.importer import import_file
from tests.conftest import SHARED

FRANCE = SHARED / "communes-france.fgb"


@pytest.mark.slow
@pytest.mark.skipif(not FRANCE.exists(), reason="shared/ data not beside the repository")
def test_france_import_under_60s(sync_conn):
    started = time.perf_counter()
    report = import_file(sync_conn, FRANCE)
    elapsed = time.perf_counter() - started
    print(f"\nFrance import: {report.read} features in {elapsed:.1f} s")
    assert report.read == 34912
    assert report.upserted["communes"] == 34867
    assert report.upserted["arrondissements"] == 45
    assert elapsed < 60
    marseille = sync_conn.execute(
        "SELECT count(*) FROM arrondissement WHERE commune_insee = '13055'"
    ).fetchone()[0]
    assert marseille == 16
