"""Signalement schemas: what comes in, what the public sees, what the service's staff see.

`SignalementPublic` is the privacy boundary of the native API: no e-mail, name,
IP or account of the reporter, and no internal note. `SignalementStaff` adds
them for the agents of the assigned service and the administrators of its
authority.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, EmailStr, Field, field_validator, model_validator

MAX_DESCRIPTION = 5000


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class SignalementCreate(BaseModel):
    """A report from the web app (or any client of the native API)."""

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    service_code: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    address: str | None = Field(default=None, max_length=300)
    email: EmailStr | None = None
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    photo_id: str | None = Field(default=None, max_length=32)
    media_url: str | None = Field(default=None, max_length=500)

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("la description ne peut pas être vide")
        return value.strip()

    @field_validator("address", "first_name", "last_name", "photo_id", "media_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return _strip(value)

    @field_validator("media_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        """Open311 clients show `media_url` as an image or a link: only an absolute
        http(s) address may be stored, never `javascript:` or `data:` (stored XSS in
        somebody else's client)."""
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("media_url doit être une adresse http(s) absolue")
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError("media_url ne peut pas contenir d'espace ni de caractère de contrôle")
        return value

    @field_validator("email", mode="before")
    @classmethod
    def _blank_email(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


AddressType = Literal["housenumber", "street", "municipality"]


class AddressPublic(BaseModel):
    """A report's address, in the fields of a Base Adresse Nationale feature, and where it
    came from: `reverse` (geocoded at intake), `citizen` (typed or picked), `staff`."""

    label: str
    type: AddressType | None = None
    housenumber: str | None = None
    street: str | None = None
    postcode: str | None = None
    citycode: str | None = None
    city: str | None = None
    source: Literal["reverse", "citizen", "staff"] | None = None


class AddressIn(BaseModel):
    """Staff's correction of a report's address (the label is what everyone reads)."""

    label: str = Field(min_length=3, max_length=300)
    type: AddressType | None = None
    housenumber: str | None = Field(default=None, max_length=30, pattern=r"^\d{1,5}( ?[A-Za-z]+)?$")
    street: str | None = Field(default=None, max_length=300)
    postcode: str | None = Field(default=None, pattern=r"^\d{5}$")
    citycode: str | None = Field(default=None, pattern=r"^(\d{5}|2[AB]\d{3})$")
    city: str | None = Field(default=None, max_length=200)

    @field_validator("label", "housenumber", "street", "city", mode="before")
    @classmethod
    def _clean(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if any(ord(c) < 32 for c in value):
            raise ValueError("pas de caractère de contrôle dans une adresse")
        return " ".join(value.split()) or None

    @model_validator(mode="after")
    def _typed(self) -> AddressIn:
        """Without a type, the most precise one the fields allow."""
        if self.type is None:
            self.type = "housenumber" if self.housenumber else "street" if self.street else None
        return self


class TransitionIn(BaseModel):
    to: str = Field(min_length=1, max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    internal_note: str | None = Field(default=None, max_length=4000)


class TransferIn(BaseModel):
    service_id: int
    reason: str = Field(min_length=1, max_length=2000)
    internal_note: str | None = Field(default=None, max_length=4000)


class MergeIn(BaseModel):
    into: int
    note: str | None = Field(default=None, max_length=2000)


class Point(BaseModel):
    """GeoJSON Point, [lon, lat]."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class Coded(BaseModel):
    code: str
    nom: str


class HistoryItem(BaseModel):
    """One public step: the state after it, when, and the note the citizen may read."""

    state: str
    label: str
    at: datetime
    note: str | None = None
    event: str = "state"


class StaffHistoryItem(HistoryItem):
    internal_note: str | None = None
    actor: str | None = None
    from_service: str | None = None
    to_service: str | None = None


class PhotoPublic(BaseModel):
    id: str
    url: str
    thumbnail_url: str


class SignalementPublic(BaseModel):
    """The public page of a ticket (readable without a token)."""

    id: int
    reference: str
    state: str
    state_label: str
    status: str
    service_code: str
    category: str
    authority: str
    service: str
    location: Point
    address: AddressPublic | None
    description: str
    explanation: str
    commune: Coded
    arrondissement: Coded | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    overdue: bool
    supports: int
    duplicate_of: int | None
    photos: list[PhotoPublic]
    history: list[HistoryItem]
    may_act: bool = Field(
        False,
        description="the caller may act on it (its service's agents, its authority's "
        "administrators): the web app shows its forms then; the server still decides",
    )


class Reporter(BaseModel):
    email: str | None
    first_name: str | None
    last_name: str | None
    has_account: bool


class SignalementStaff(SignalementPublic):
    """What the assigned service's agents and its authority's administrators see."""

    service_id: int
    authority_id: int
    rule_id: int | None
    street: str | None
    road_class: str | None
    media_url: str | None
    source: str
    reporter: Reporter | None
    history: list[StaffHistoryItem]  # type: ignore[assignment]


class QueueItem(BaseModel):
    id: int
    state: str
    status: str
    service_code: str
    category: str
    service_id: int
    service: str
    commune: Coded
    address: str | None
    summary: str
    location: Point
    created_at: datetime
    due_at: datetime
    overdue: bool
    supports: int


class Queue(BaseModel):
    items: list[QueueItem]
    total: int
    limit: int
    offset: int


class Nearby(BaseModel):
    """An open report close to a point: support it instead of reporting it again."""

    id: int
    state: str
    service_code: str
    category: str
    distance_m: float
    summary: str
    address: str | None
    created_at: datetime
    supports: int


class SupportResult(BaseModel):
    id: int
    supports: int
    supported: bool


class ServiceStats(BaseModel):
    """Service levels of one service for one category."""

    service_id: int
    service: str
    authority: str
    service_code: str
    total: int
    open: int
    overdue: int
    median_hours_to_acknowledge: float | None
    median_hours_to_resolve: float | None


class TransferStats(BaseModel):
    """How often tickets of a category were sent on from one authority to another, where."""

    service_code: str
    commune: Coded
    from_authority: str
    to_authority: str
    transfers: int


class TransferService(BaseModel):
    id: int
    name: str


class TransferGroup(BaseModel):
    """The services of one authority an agent may send the ticket on to."""

    authority_id: int
    authority: str
    relation: Literal["commune", "intercommunalite", "autre"] = Field(
        description="the ticket's commune, one of its intercommunalities, or elsewhere"
    )
    services: list[TransferService]


class TransferCandidates(BaseModel):
    """Where the ticket may go: its commune's and intercommunalities' services, or
    with `q` any service matching it (at most `limit`)."""

    query: str | None
    groups: list[TransferGroup]
    limit: int


class Around(BaseModel):
    """Another report near a ticket, for the agent who goes there."""

    id: int
    state: str
    service_code: str
    category: str
    address: str | None
    distance_m: float
    location: Point
