"""Small helpers shared by the end-to-end tests (HTTP calls beside the browser)."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image


def png_bytes(color: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A small real photo-like PNG (the server decodes and re-encodes it)."""
    img = Image.new("RGB", (320, 240), color)
    for x in range(0, 320, 16):
        for y in range(0, 240, 16):
            img.putpixel((x, y), (255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def token(base: str, email: str, password: str = "demo") -> str:  # noqa: S107
    resp = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password})
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def get_json(base: str, path: str, bearer: str | None = None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    resp = httpx.get(f"{base}{path}", params=params, headers=headers)
    resp.raise_for_status()
    return resp.json()


def file_report(
    base: str, lon: float, lat: float, service_code: str, description: str, bearer: str = ""
) -> str:
    """File a signalement through the native API (as `bearer`'s account if given); its id."""
    resp = httpx.post(
        f"{base}/api/v1/signalements",
        json={"lon": lon, "lat": lat, "service_code": service_code, "description": description},
        headers={"Authorization": f"Bearer {bearer}"} if bearer else {},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def concertation(base: str, title: str) -> dict[str, Any]:
    items = get_json(base, "/api/v1/concertations")
    items = items if isinstance(items, list) else items["items"]
    return next(c for c in items if c["title"] == title)


def contributions(base: str, concertation_id: int) -> list[dict[str, Any]]:
    data = get_json(base, f"/api/v1/concertations/{concertation_id}/contributions", limit=1000)
    return list(data["features"] if isinstance(data, dict) else data)
