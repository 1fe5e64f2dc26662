"""Every label the web app shows for a code comes from the server's vocabulary: no
TypeScript file types a state, status, kind or answer label again, and the web app
has a colour and a badge style for exactly the server's states."""

from __future__ import annotations

import re
from pathlib import Path

from carto.signalements.states import STATES
from carto.vocabulary.terms import DOMAINS

WEB = Path(__file__).resolve().parents[2] / "web" / "src"


def ts_object_keys(source: str, name: str) -> dict[str, str]:
    """The `key: "value"` pairs of `export const NAME ... = { ... };` in a TypeScript file."""
    match = re.search(rf"export const {name}\b[^=]*=\s*\{{(.*?)\}};", source, re.S)
    assert match, f"{name} not found"
    return dict(re.findall(r'^\s*"?(\w+)"?\s*:\s*"([^"]*)"', match.group(1), re.M))


# The domains whose codes the web app shows (phases and channels reach it already labelled).
SHOWN = (
    "signalement_state",
    "signalement_action",
    "signalement_event",
    "address_source",
    "answer_status",
    "contribution_kind",
    "concertation_status",
    "concertation_kind",
    "competence_level",
    "competence_scope",
)
# Same word, other meaning: a competence rule that has ended ("Close"), not a concertation.
HOMONYMS = {"views/admin_routing.ts": {"close"}}


def typed_labels(source: str) -> set[str]:
    """The server's labels that appear as string literals in a TypeScript source."""
    labels = {label.lower() for domain in SHOWN for label in DOMAINS[domain].values()}
    source = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)
    literals = re.findall(r'"([^"\n]*)"|\'([^\'\n]*)\'|`([^`]*)`', source)
    found = {text.strip().lower() for group in literals for text in group if text}
    return labels & found


def test_no_vocabulary_label_is_typed_in_the_web_app() -> None:
    offenders = {
        rel: typed_labels(path.read_text(encoding="utf-8")) - HOMONYMS.get(rel, set())
        for path in WEB.rglob("*.ts")
        if (rel := path.relative_to(WEB).as_posix())
    }
    assert {f: labels for f, labels in offenders.items() if labels} == {}


def test_the_scan_sees_a_typed_label() -> None:
    """Guards the test above: the drifted map it replaced would be reported."""
    source = 'export const STATE_LABELS = {\n  routed: "Transmis",\n  duplicate: "Doublon",\n};'
    assert typed_labels(source) == {"doublon"}


def test_every_server_state_has_a_colour_and_a_badge_style_and_no_other() -> None:
    colours = ts_object_keys((WEB / "labels.ts").read_text(encoding="utf-8"), "STATE_COLORS")
    assert colours.keys() == set(STATES)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour) for colour in colours.values())
    css = (WEB / "style.css").read_text(encoding="utf-8")
    assert set(STATES) - set(re.findall(r"\.state-(\w+)", css)) == set()
