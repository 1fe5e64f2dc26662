"""Account schemas: what the API says about a user (never the password hash)."""

from __future__ import annotations

from pydantic import BaseModel


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
    roles: list[RoleGrantPublic]
