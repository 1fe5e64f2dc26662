"""Helpers for the signalement tests: points from the real polygons, reports through the API."""

from __future__ import annotations

import pytest
from sqlalchemy import text

ROUBAIX = (3.1779, 50.6916)  # lon, lat (contract example: proprete -> Roubaix)
LYON_BELLECOUR = (4.8357, 45.7640)
BRUSSELS = (4.3525, 50.8467)


async def report(client, lon: float, lat: float, code: str = "proprete", headers=None, **extra):
    body = {"lon": lon, "lat": lat, "service_code": code, "description": "Dépôt sauvage", **extra}
    return await client.post("/api/v1/signalements", json=body, headers=headers or {})


async def new_ticket(client, lon: float = ROUBAIX[0], lat: float = ROUBAIX[1], code="proprete",
                     headers=None, **extra) -> dict:  # fmt: skip
    resp = await report(client, lon, lat, code, headers=headers, **extra)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def count(session, table: str = "signalement") -> int:
    return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


@pytest.fixture
def roubaix():
    return ROUBAIX
