"""What the concertation API accepts and answers (pydantic), one family per entity.

Public answers carry pseudonyms only: no e-mail, no IP hash, no internal flags
beyond the `flagged` mark that the synthesis also shows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from carto.concertations.constraints import explain

ContributionKind = Literal["proposition", "constat", "question"]
ContributionSort = Literal["oldest", "newest", "supported", "answered"]
Channel = Literal["online", "workshop", "kiosk", "paper", "assisted"]
AnswerStatus = Literal["retenue", "a_l_etude", "non_retenue", "hors_sujet", "hors_competence"]
GeometryType = Literal["Point", "LineString", "Polygon"]
PhaseName = Literal["information", "contribution", "analyse", "restitution"]
ModerationAction = Literal["hide", "restore", "release", "clear_flags"]
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def unsafe_text(value: Any) -> bool:
    """True when some string inside cannot be stored: NUL bytes or lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(unsafe_text(k) or unsafe_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(unsafe_text(v) for v in value)
    return False


class Input(BaseModel):
    """Base of every request body: refuses text PostgreSQL cannot store (422, not 500)."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if unsafe_text(data):
            raise ValueError("texte illisible : caractère nul ou encodage invalide")
        return data


def _aware(value: datetime | None) -> datetime | None:
    """Dates without a time zone are taken as UTC (comparisons need aware datetimes)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class ThemePublic(BaseModel):
    slug: str
    label: str
    color: str
    icon: str = ""
    description: str = ""


class PhasePublic(BaseModel):
    phase: PhaseName
    label: str
    starts_at: datetime
    description: str = ""
    current: bool = False


class ReferenceLayerPublic(BaseModel):
    """A layer drawn on the concertation map; constraint layers say what they check."""

    id: int
    slug: str
    title: str
    description: str
    role: Literal["reference", "constraint"]
    rule: Literal["no_overlap", "min_distance", "inside"] | None
    distance_m: float | None
    action: Literal["reject", "flag"]
    message: str
    color: str
    features: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explanation(self) -> str:
        """What a constraint layer checks, in French (empty for a reference layer)."""
        if self.role != "constraint":
            return ""
        return explain(self.rule, self.title, self.distance_m, self.action)


class ConcertationPublic(BaseModel):
    """A concertation as the list and the map show it (contract: id, slug, title, status,
    perimeter, themes)."""

    id: int
    slug: str
    title: str
    description: str
    kind: Literal["plu", "plantation", "autre"]
    status: Literal["a_venir", "ouverte", "close", "archivee"]
    status_label: str
    opens_at: datetime
    closes_at: datetime
    archived_at: datetime | None
    phase: PhaseName | None
    perimeter: dict[str, Any]
    themes: list[ThemePublic]
    phases: list[PhasePublic]
    allowed_geometry_types: list[str]
    allowed_kinds: list[str]
    authorities: list[str]
    contributions: int
    is_demo: bool


class ConcertationDetail(ConcertationPublic):
    reference_layers: list[ReferenceLayerPublic]


class ThemeCreate(Input):
    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(default=None, max_length=80, pattern=SLUG)
    label: str = Field(min_length=2, max_length=120)
    color: str = Field(default="#3388ff", pattern=r"^#[0-9a-fA-F]{6}$")
    icon: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=2000)


class PhaseCreate(Input):
    model_config = ConfigDict(extra="forbid")

    phase: PhaseName
    starts_at: datetime
    description: str = Field(default="", max_length=2000)

    _aware_start = field_validator("starts_at")(_aware)


class PerimeterSpec(Input):
    """Union of communes (INSEE) and intercommunalities (SIREN), or a drawn geometry."""

    model_config = ConfigDict(extra="forbid")

    communes: list[str] = Field(default_factory=list, max_length=2000)
    intercommunalites: list[str] = Field(default_factory=list, max_length=100)
    geometry: dict[str, Any] | None = None


class ConcertationCreate(Input):
    model_config = ConfigDict(extra="forbid")

    slug: str | None = Field(default=None, max_length=120, pattern=SLUG)
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(default="", max_length=20000)
    kind: Literal["plu", "plantation", "autre"] = "autre"
    authorities: list[str] = Field(min_length=1, max_length=20, description="authority slugs")
    perimeter: PerimeterSpec
    opens_at: datetime
    closes_at: datetime
    themes: list[ThemeCreate] = Field(min_length=1, max_length=40)
    phases: list[PhaseCreate] = Field(default_factory=list, max_length=4)
    allowed_geometry_types: list[GeometryType] = Field(default=["Point"], min_length=1)
    allowed_kinds: list[ContributionKind] = Field(
        default=["proposition", "constat", "question"], min_length=1
    )

    _strip_title = field_validator("title", "description", mode="before")(_strip)
    _aware_dates = field_validator("opens_at", "closes_at")(_aware)


class ConcertationUpdate(Input):
    """Omitted fields are kept. `themes` is the whole new list: themes are matched by
    slug (label, colour, order updated), new ones added, absent ones removed when no
    contribution uses them."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=3, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    perimeter: PerimeterSpec | None = None
    themes: list[ThemeCreate] | None = Field(default=None, min_length=1, max_length=40)

    _aware_dates = field_validator("opens_at", "closes_at")(_aware)


class ContributionInput(Input):
    """The properties of a contribution Feature (contract: title, body, theme, kind)."""

    title: str = Field(min_length=3, max_length=200)
    body: str = Field(default="", max_length=5000)
    theme: str = Field(min_length=1, max_length=80)
    kind: ContributionKind
    photo_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    channel: Channel = "online"
    author_label: str | None = Field(
        default=None, max_length=80, description="for input entered on someone's behalf"
    )
    resident: bool | None = Field(
        default=None, description="does the author live inside the perimeter?"
    )

    _strip_texts = field_validator("title", "body", "theme", "author_label", mode="before")(_strip)


class ContributionFeatureIn(Input):
    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: ContributionInput


class AnswerPublic(BaseModel):
    status: AnswerStatus
    label: str
    text: str
    authority: str | None
    answered_at: datetime


class ContributionProperties(BaseModel):
    concertation: str
    concertation_id: int
    theme: str
    theme_label: str
    theme_color: str
    kind: ContributionKind
    kind_label: str
    title: str | None
    body: str | None
    author: str
    channel: Channel
    channel_label: str
    photo_id: str | None
    photo_url: str | None = Field(default=None, description="on a single contribution only")
    photo_thumbnail_url: str | None = None
    commune: str | None
    phase: str | None
    votes_for: int
    votes_against: int
    supports: int
    comments: int
    answer: AnswerPublic | None
    visibility: Literal["published", "held", "hidden"]
    moderation_reason: str | None
    flagged: bool
    constraint_notes: list[str]
    created_at: datetime
    updated_at: datetime


class MyReactions(BaseModel):
    """What the signed-in caller did in a concertation: votes by contribution id (1 or -1),
    the contributions they support, and their own contributions."""

    votes: dict[str, int]
    supports: list[int]
    contributions: list[int]


class ContributionFeature(BaseModel):
    """A contribution as GeoJSON, with its `id` at the top level (contract)."""

    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any] | None
    properties: ContributionProperties


class ContributionCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ContributionFeature]
    number_matched: int
    number_returned: int


class VoteInput(Input):
    model_config = ConfigDict(extra="forbid")

    value: Literal[1, -1]
    reason: str | None = Field(default=None, max_length=280)


class VoteResult(BaseModel):
    contribution_id: int
    value: int
    reason: str | None
    replaced: bool
    votes_for: int
    votes_against: int
    counted: bool = Field(
        default=True,
        description="false until the voter's e-mail address is confirmed, and always on the "
        "voter's own contribution (kept, never counted)",
    )


class SupportResult(BaseModel):
    contribution_id: int
    supported: bool
    supports: int


class CommentInput(Input):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=3000)
    parent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    _strip_body = field_validator("body", mode="before")(_strip)


class CommentPublic(BaseModel):
    id: int
    parent_id: int | None
    author: str
    body: str | None
    visibility: Literal["published", "held", "hidden"]
    moderation_reason: str | None
    created_at: datetime
    replies: list[CommentPublic] = Field(default_factory=list)


class ReportInput(Input):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=1000)


class ReportResult(BaseModel):
    id: int
    received: bool = True
    already_reported: bool = False


class ModerationInput(Input):
    model_config = ConfigDict(extra="forbid")

    action: ModerationAction
    reason: str = Field(default="", max_length=1000)

    _strip_reason = field_validator("reason", mode="before")(_strip)


class ModerationResult(BaseModel):
    target: Literal["contribution", "comment"]
    id: int
    visibility: Literal["published", "held", "hidden"]
    moderation_reason: str | None
    flags: list[str]
    reports_resolved: int


class AnswerInput(Input):
    model_config = ConfigDict(extra="forbid")

    status: AnswerStatus
    text: str = Field(min_length=10, max_length=5000, description="the justification")

    _strip_text = field_validator("text", mode="before")(_strip)


class ResidenceInput(Input):
    """Either say whether you live inside the perimeter, or give your commune's INSEE code."""

    model_config = ConfigDict(extra="forbid")

    resident: bool | None = None
    commune: str | None = Field(default=None, pattern=r"^[0-9][0-9AB][0-9]{3}$")


class ResidenceResult(BaseModel):
    concertation_id: int
    resident: bool
    commune: str | None
    flagged_items: int


class QueueItem(BaseModel):
    """One thing for a moderator to look at, with every reason it is in the queue."""

    target: Literal["contribution", "comment"]
    id: int
    contribution_id: int
    concertation: str
    title: str | None
    body: str
    author: str
    visibility: Literal["published", "held", "hidden"]
    hold_reason: str | None
    flags: list[str]
    flag_labels: list[str]
    reports: int
    report_reasons: list[str]
    created_at: datetime


class ModerationQueue(BaseModel):
    held: list[QueueItem]
    reported: list[QueueItem]
    flagged: list[QueueItem]
