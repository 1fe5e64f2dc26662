"""Security regression tests: each finding of the outside attack, replayed over real HTTP.

The app is served by uvicorn on a loopback port over the run's demo database (the
same path an attacker takes), not only through the ASGI test client.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from carto.app import create_app
from carto.settings import Settings
from tests.conftest import serve_in_thread


@pytest.fixture(scope="session")
def served(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the app served over HTTP on the demo database (rate limits off)."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("carto-security-data"),
        secret_key="security-test-secret-" + "z" * 32,
        rate_limits="off",
        notifications_worker=False,
    )
    with serve_in_thread(create_app(settings, db_url=demo_db)) as base:
        yield base


@pytest.fixture
def http(served: str) -> Iterator[httpx.Client]:
    """A plain HTTP client on the served app."""
    with httpx.Client(base_url=served, timeout=30) as client:
        yield client


def bearer(http: httpx.Client, email: str, password: str = "demo") -> dict[str, str]:  # noqa: S107
    """Authorization header for a demo account, obtained over HTTP."""
    resp = http.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}
