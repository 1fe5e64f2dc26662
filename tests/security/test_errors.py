"""Finding 8 (five 500s) and "database error text never reaches a client", over HTTP."""

from __future__ import annotations

import httpx
import pytest

FIVE_500S = [
    "/ogc/collections/signalements/items?bbox=nan,nan,nan,nan",
    "/ogc/collections/signalements/items/99999999999999999999",
    "/ogc/collections/signalements/items?filter=state%3D%27open%00%27",
    "/open311/v2/requests/%C2%B2.json",
    "/open311/v2/requests.json?service_request_id=%C2%B2",
]


@pytest.mark.parametrize("path", FIVE_500S)
def test_the_five_500s_are_clear_4xx(http: httpx.Client, path: str) -> None:
    resp = http.get(path)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    assert resp.json()["message"]
