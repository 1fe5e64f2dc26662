"""The web app has a French label, a colour and a badge style for every lifecycle state
the API can return (a state added in Python without its label fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from carto.signalements.states import STATES

WEB = Path(__file__).resolve().parents[2] / "web" / "src"


def ts_object_keys(source: str, name: str) -> dict[str, str]:
    """The `key: "value"` pairs of `export const NAME ... = { ... };` in a TypeScript file."""
    match = re.search(rf"export const {name}\b[^=]*=\s*\{{(.*?)\}};", source, re.S)
    assert match, f"{name} not found"
    return dict(re.findall(r'^\s*"?(\w+)"?\s*:\s*"([^"]*)"', match.group(1), re.M))


def test_every_state_has_a_french_label_and_a_colour() -> None:
    source = (WEB / "labels.ts").read_text(encoding="utf-8")
    labels = ts_object_keys(source, "STATE_LABELS")
    colours = ts_object_keys(source, "STATE_COLORS")
    assert set(STATES) - labels.keys() == set()
    assert set(STATES) - colours.keys() == set()
    assert all(labels[s] and labels[s][0].isupper() for s in STATES)
    assert labels["routed"] == "Transmis au service" and labels["duplicate"] == "Doublon"
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colours[s]) for s in STATES)


def test_every_state_has_a_badge_style() -> None:
    css = (WEB / "style.css").read_text(encoding="utf-8")
    styled = set(re.findall(r"\.state-(\w+)", css))
    assert set(STATES) - styled == set()


def test_the_parser_sees_a_missing_state() -> None:
    """Guards the test itself: a label map without `duplicate` is reported."""
    source = 'export const STATE_LABELS: Record<string, string> = {\n  routed: "Transmis",\n};'
    assert set(STATES) - ts_object_keys(source, "STATE_LABELS").keys() >= {"duplicate"}
