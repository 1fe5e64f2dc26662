"""Routing schemas: categories (public) and services (administrators' view)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CategoryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label: str
    description: str
    icon: str
    group: str
    due_days: int


class ServiceAdmin(BaseModel):
    """A service as its authority's administrators see it (contacts included)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    authority_id: int
    authority: str
    slug: str
    name: str
    email: str | None
    webhook_url: str | None
