"""Earlier revisions' modules, for migrations that reuse or restore their DDL strings."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

VERSIONS = Path(__file__).with_name("versions")


def load_revision(name: str) -> ModuleType:
    """The module of `versions/<name>.py` (revision files are not an importable package)."""
    path = VERSIONS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"carto_rev_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
