"""The web app's import rule, checked by `npm run build` (web/scripts/check-imports.mjs):
views import only api/, widgets and shared modules, never another view; and only api/
talks to the back end (no `api(` call, no `/api/v1` URL anywhere else)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
CHECK = WEB / "scripts" / "check-imports.mjs"


def check(src: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node") or "node"
    return subprocess.run([node, str(CHECK), str(src)], capture_output=True, text=True, check=False)  # noqa: S603


def test_the_web_app_follows_its_layers() -> None:
    result = check(WEB / "src")
    assert result.returncode == 0, result.stderr


def test_a_view_importing_a_view_fails(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "api").mkdir()
    (tmp_path / "views" / "a.ts").write_text('import { b } from "./b";\n', encoding="utf-8")
    (tmp_path / "views" / "b.ts").write_text('import { x } from "../api/x";\n', encoding="utf-8")
    (tmp_path / "api" / "x.ts").write_text('import { h } from "../dom";\n', encoding="utf-8")
    result = check(tmp_path)
    assert result.returncode == 1
    found = sorted(result.stderr.splitlines()[1:])
    assert found == ["  api/x.ts imports dom", "  views/a.ts imports views/b"]


def test_calling_the_api_outside_api_fails(tmp_path: Path) -> None:
    for layer in ("views", "widgets", "api"):
        (tmp_path / layer).mkdir()
    (tmp_path / "views" / "a.ts").write_text(
        "const s = await api<S>(`/x/${id}`);\nconst ok = map.api(1) + rapid(2);\n", encoding="utf-8"
    )
    (tmp_path / "widgets" / "b.ts").write_text(
        'import { api as call } from "../api/client";\nconst u = "/api/v1/streets";\n',
        encoding="utf-8",
    )
    (tmp_path / "session.ts").write_text('await api("/me");\n', encoding="utf-8")
    # api/ is where these calls belong.
    (tmp_path / "api" / "x.ts").write_text('await api("/api/v1/x");\n', encoding="utf-8")
    result = check(tmp_path)
    assert result.returncode == 1
    found = sorted(line.split(" talks")[0] for line in result.stderr.splitlines()[1:])
    assert found == ["  session.ts:1", "  views/a.ts:1", "  widgets/b.ts:1", "  widgets/b.ts:2"]
