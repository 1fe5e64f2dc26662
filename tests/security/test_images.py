"""Finding 12: an anonymous 47 KB PNG of 7000 × 7000 pixels cost 2.3 s of server CPU.

Over HTTP on the served app: without an account the pixel budget is smaller and is
checked from the header, before decoding (a quick French 413); an account may send a
large image, and while it is being decoded other requests still answer promptly.
"""

from __future__ import annotations

import io
import threading
import time

import httpx
import pytest
from PIL import Image

from tests.security.conftest import bearer


@pytest.fixture(scope="module")
def big_png() -> bytes:
    """7000 × 7000 grey pixels, a few dozen kilobytes once compressed (49 megapixels)."""
    buf = io.BytesIO()
    Image.new("L", (7000, 7000), 128).save(buf, format="PNG")
    data = buf.getvalue()
    assert len(data) < 100_000
    return data


def _upload(client: httpx.Client, data: bytes, headers: dict[str, str] | None = None):
    files = {"file": ("plan.png", data, "image/png")}
    return client.post("/api/v1/media", files=files, headers=headers or {})


def test_anonymous_huge_dimensions_refused_before_decoding(
    http: httpx.Client, big_png: bytes
) -> None:
    started = time.perf_counter()
    resp = _upload(http, big_png)
    elapsed = time.perf_counter() - started
    assert resp.status_code == 413, resp.text
    assert "Image trop grande" in resp.json()["message"]
    assert "mégapixels" in resp.json()["message"]
    assert elapsed < 0.5, f"refusal took {elapsed:.2f} s"


def test_large_upload_does_not_stall_other_requests(
    http: httpx.Client, served: str, big_png: bytes
) -> None:
    signed = bearer(http, "citoyen@demo.local")
    result: dict[str, object] = {}

    def upload() -> None:
        with httpx.Client(base_url=served, timeout=60) as client:
            started = time.perf_counter()
            result["resp"] = _upload(client, big_png, signed)
            result["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.2)  # the upload is being decoded
    latencies = []
    while thread.is_alive():
        started = time.perf_counter()
        assert http.get("/healthz").status_code == 200
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    thread.join()
    resp = result["resp"]
    assert isinstance(resp, httpx.Response) and resp.status_code == 201, resp
    print(
        f"\nupload {result['seconds']:.2f} s; /healthz during it: {len(latencies)} answers, "
        f"max {max(latencies) * 1000:.0f} ms"
    )
    assert len(latencies) >= 3
    assert max(latencies) < 0.75
