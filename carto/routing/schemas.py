"""Routing schemas: categories (public), services and competence rules (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from carto.routing.decision import Delivery


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


SERVICE_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
WEBHOOK = r"^https?://[^\s]+$"


class ServiceCreate(BaseModel):
    """A new service of an authority the caller administers; the slug defaults to the
    name's. Competence rules name services by slug (default: the category code)."""

    model_config = ConfigDict(extra="forbid")

    authority_id: int = Field(ge=1, le=2**31 - 1)
    name: str = Field(min_length=2, max_length=200)
    slug: str | None = Field(default=None, max_length=80, pattern=SERVICE_SLUG)
    email: EmailStr | None = None
    webhook_url: str | None = Field(default=None, max_length=500, pattern=WEBHOOK)


class ServiceUpdate(BaseModel):
    """Omitted fields are kept; `null` clears the e-mail or the webhook."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    email: EmailStr | None = None
    webhook_url: str | None = Field(default=None, max_length=500, pattern=WEBHOOK)


# The levels an administrator may name (`etat` is for the national defaults only).
Level = Literal["commune", "intercommunalite", "departement", "authority"]
ScopeKind = Literal["everywhere", "intercommunalite", "commune", "departement"]


class InformTarget(BaseModel):
    """A service told of every ticket a rule routes (it does not handle it)."""

    level: Level
    service: str | None = Field(
        default=None, max_length=80, description="service slug; default: the category code"
    )
    authority_id: int | None = Field(default=None, description="for level 'authority'")

    @model_validator(mode="after")
    def _authority_named(self) -> InformTarget:
        if (self.level == "authority") != (self.authority_id is not None):
            raise ValueError("authority_id accompagne le niveau 'authority', et lui seul")
        return self


class RuleCreate(BaseModel):
    """A new competence rule; `valid_from` defaults to now."""

    category: str = Field(min_length=1, max_length=40)
    level: Level
    authority_id: int | None = Field(default=None, description="for level 'authority'")
    scope_kind: ScopeKind
    scope_code: str | None = Field(default=None, max_length=20)
    road_class: str | None = Field(default=None, max_length=40)
    service_slug: str | None = Field(default=None, max_length=80)
    inform: list[InformTarget] = Field(default_factory=list, max_length=20)
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> RuleCreate:
        if (self.level == "authority") != (self.authority_id is not None):
            raise ValueError("authority_id accompagne le niveau 'authority', et lui seul")
        if (self.scope_kind == "everywhere") != (self.scope_code is None):
            raise ValueError("scope_code est requis, sauf pour la portée 'everywhere'")
        return self


class RuleUpdate(BaseModel):
    """A new version of a rule from `valid_from` (default now); omitted fields are kept."""

    level: Level | None = None
    authority_id: int | None = None
    road_class: str | None = Field(default=None, max_length=40)
    service_slug: str | None = Field(default=None, max_length=80)
    inform: list[InformTarget] | None = Field(default=None, max_length=20)
    valid_from: AwareDatetime | None = None
    note: str | None = Field(default=None, max_length=2000)


class RulePublic(BaseModel):
    """A rule as administrators see it."""

    id: int
    category: str
    level: str
    authority_id: int | None
    authority: str | None
    scope_kind: str
    scope_code: str | None
    road_class: str | None
    service_slug: str
    inform: list[dict[str, Any]]
    valid_from: datetime | None
    valid_to: datetime | None
    active: bool
    source: str
    note: str | None
    replaces_id: int | None


class Named(BaseModel):
    code: str
    nom: str


class AuthorityRef(BaseModel):
    id: int
    name: str


class ServiceRef(BaseModel):
    id: int
    name: str
    authority: str


class InformedRef(ServiceRef):
    """A service told of the report, and why (the rule's note), if the rule says."""

    reason: str | None = None


class DecisionPublic(BaseModel):
    """Who will receive a report at this point, and why (no personal data involved)."""

    service_code: str
    category: str
    commune: Named
    arrondissement: Named | None
    intercommunalite: Named | None
    level: str
    rule_id: int
    authority: AuthorityRef
    service: ServiceRef
    informed: list[InformedRef]
    street: str | None
    road_class: str | None
    explanation: str
    rule_status: str = Field(
        "règle confirmée par la collectivité", description="or 'règle par défaut' (the law)"
    )
    legal_basis: str | None = None
    delivery: Delivery = Field(
        "service",
        description="service: a service in Carto; email: the front desk of an authority "
        "without Carto, by e-mail; queue: nobody can receive it yet (no known address, the "
        "État's roads), it waits in the platform's « à orienter » queue",
    )
