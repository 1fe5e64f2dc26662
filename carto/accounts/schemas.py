"""Account schemas: what the API says about a user (never the password hash)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

EMAIL_PATTERN = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


def _lower(value: str) -> str:
    return value.strip().lower()


# A plain syntactic check: delivery is proven by the confirmation link, and
# special-use domains (the demo's .local) must stay possible.
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN), AfterValidator(_lower)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type, not a secret
    expires_in: int


class RoleGrantPublic(BaseModel):
    role: str
    service_id: int | None = None
    authority_id: int | None = None


class UserMe(BaseModel):
    """The signed-in user's own view (their e-mail is theirs to see)."""

    id: int
    email: str
    pseudonym: str
    email_verified: bool
    roles: list[RoleGrantPublic]


class SignUp(BaseModel):
    email: Email
    pseudonym: str = Field(min_length=2, max_length=40)
    password: str = Field(min_length=8, max_length=128)


class Accepted(BaseModel):
    """An answer that says the same whatever the account state (no enumeration)."""

    message: str


class PasswordResetRequest(BaseModel):
    email: Email


class PasswordResetConfirm(BaseModel):
    token: str = Field(min_length=10, max_length=2000)
    password: str = Field(min_length=8, max_length=128)


class AccountDeletion(BaseModel):
    password: str = Field(min_length=1, max_length=128)


class ProcessingPublic(BaseModel):
    name: str
    data: str
    purpose: str
    legal_basis: str
    retention: str
    recipients: str
