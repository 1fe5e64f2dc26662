"""`/api/v1/auth/token` (OAuth2 password flow) and `/api/v1/me`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from carto.accounts.deps import CurrentPrincipal
from carto.accounts.schemas import RoleGrantPublic, Token, UserMe
from carto.accounts.security import create_access_token
from carto.accounts.service import authenticate, get_user
from carto.db import SessionDep
from carto.errors import NotAuthenticated

router = APIRouter(tags=["comptes"])


@router.post("/auth/token", response_model=Token)
async def issue_token(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """Exchange an e-mail and password for a bearer token."""
    user = await authenticate(session=session, email=form.username, password=form.password)
    if user is None:
        raise NotAuthenticated("Adresse e-mail ou mot de passe incorrect.")
    settings = request.app.state.settings
    token = create_access_token(user.id, settings, request.app.state.secret_key)
    return Token(access_token=token, expires_in=settings.token_ttl_minutes * 60)


@router.get("/me", response_model=UserMe)
async def me(principal: CurrentPrincipal, session: SessionDep) -> UserMe:
    user = await get_user(session=session, user_id=principal.user_id)
    assert user is not None
    return UserMe(
        id=user.id,
        email=user.email,
        pseudonym=user.pseudonym,
        roles=[
            RoleGrantPublic(role=g.role, service_id=g.service_id, authority_id=g.authority_id)
            for g in user.grants
        ],
    )
