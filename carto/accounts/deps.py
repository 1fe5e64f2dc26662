"""Who is calling: the current-user dependency and the role checks every route declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from carto.accounts.models import User
from carto.accounts.service import Mailer, get_user
from carto.credentials import decode_access_token
from carto.deps import SessionDep
from carto.errors import Forbidden, NotAuthenticated

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# The web app's session: the access token in an HttpOnly cookie (no script can read it),
# counted only on requests that carry the web app's header (README, "Where the token lives").
SESSION_COOKIE = "carto_session"
WEB_CLIENT_HEADER = "x-requested-with"
WEB_CLIENT = "carto-web"


def request_token(
    request: Request, bearer: Annotated[str | None, Depends(oauth2_scheme)]
) -> str | None:
    """The caller's access token: `Authorization: Bearer` (API clients), else the web
    app's session cookie. The cookie counts only with `X-Requested-With: carto-web`: a
    cross-site form, link or image cannot set that header, and a cross-origin script
    would need a CORS pre-flight that Carto never grants (with SameSite=Strict, CSRF)."""
    if bearer:
        return bearer
    if request.headers.get(WEB_CLIENT_HEADER) == WEB_CLIENT:
        return request.cookies.get(SESSION_COOKIE)
    return None


@dataclass(frozen=True)
class Principal:
    """The caller and what they may act on, resolved once per request."""

    user_id: int
    pseudonym: str
    roles: frozenset[str]
    service_ids: frozenset[int] = field(default_factory=frozenset)
    admin_authority_ids: frozenset[int] = field(default_factory=frozenset)

    def is_agent_of(self, service_id: int) -> bool:
        return service_id in self.service_ids

    def is_admin_of(self, authority_id: int) -> bool:
        return authority_id in self.admin_authority_ids


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        pseudonym=user.pseudonym,
        roles=frozenset(g.role for g in user.grants),
        service_ids=frozenset(
            g.service_id for g in user.grants if g.role == "agent" and g.service_id
        ),
        admin_authority_ids=frozenset(
            g.authority_id for g in user.grants if g.role == "admin" and g.authority_id
        ),
    )


async def optional_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(request_token)]
) -> Principal | None:
    """The caller when a valid token is given; None when no token; 401 on a bad token."""
    if not token:
        return None
    claims = decode_access_token(token, request.app.state.secret_key)
    if claims is None:
        raise NotAuthenticated("Jeton invalide ou expiré : reconnectez-vous.")
    user = await get_user(session=session, user_id=int(claims["sub"]))
    if user is None or not user.is_active:
        raise NotAuthenticated("Compte inconnu ou désactivé.")
    if not token_is_current(claims, user):
        raise NotAuthenticated(
            "Session fermée (mot de passe changé ou déconnexion) : reconnectez-vous."
        )
    return principal_of(user)


def token_is_current(claims: dict[str, object], user: User) -> bool:
    """The token was issued since the account's last password change or "log out everywhere"
    (the account row is loaded for every request anyway: one integer comparison)."""
    return claims.get("tv", 0) == user.token_version


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise NotAuthenticated("Authentification requise.")
    return principal


def require_role(*roles: str):  # type: ignore[no-untyped-def]
    """Dependency factory: the caller must hold one of `roles`."""

    async def _check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.roles.intersection(roles):
            raise Forbidden("Vous n'avez pas le rôle requis pour cette action.")
        return principal

    return _check


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CitizenPrincipal = Annotated[Principal, Depends(require_role("citizen"))]


def mailer(request: Request) -> Mailer:
    """The outbox's e-mail queue, put on app.state by the wiring (carto.wiring)."""
    queue: Mailer = request.app.state.mailer
    return queue


MailerDep = Annotated[Mailer, Depends(mailer)]
