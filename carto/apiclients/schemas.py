"""API client schemas: the key appears in the creation answer only, never in a list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field


def _clean(value: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError("le nom ne peut pas être vide")
    return cleaned


class ApiClientCreate(BaseModel):
    """A new key for `authority_id`; `service_ids` empty means every service of it."""

    name: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_clean)]
    authority_id: int = Field(ge=1, le=2**31 - 1)
    service_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=100
    )


class ServiceRef(BaseModel):
    id: int
    slug: str
    name: str


class ApiClientPublic(BaseModel):
    """What administrators see of a client: never the key, only its first characters."""

    id: int
    name: str
    key_prefix: str
    authority_id: int
    authority: str
    services: list[ServiceRef] = Field(description="empty: every service of the authority")
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiClientCreated(ApiClientPublic):
    key: str = Field(description="shown once: only its hash is kept")
