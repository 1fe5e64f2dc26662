"""Authentication, sign-up, e-mail verification, password reset, and the RGPD rights."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import OAuth2PasswordRequestForm

from carto.accounts import service
from carto.accounts.deps import (
    SESSION_COOKIE,
    WEB_CLIENT,
    WEB_CLIENT_HEADER,
    CurrentPrincipal,
    MailerDep,
)
from carto.accounts.models import User
from carto.accounts.privacy import processing_register
from carto.accounts.schemas import (
    Accepted,
    AccountDeletion,
    PasswordResetConfirm,
    PasswordResetRequest,
    ProcessingPublic,
    RoleGrantPublic,
    SignUp,
    Token,
    UserMe,
)
from carto.credentials import create_access_token
from carto.deps import BaseUrl, SessionDep, client_address
from carto.errors import NotAuthenticated
from carto.ratelimit import rate_limited

router = APIRouter(tags=["comptes"])
SIGNUP_MESSAGE = (
    "Si l'adresse est valide, un e-mail vient d'y être envoyé : "
    "suivez son lien pour confirmer votre compte."
)
RESET_MESSAGE = (
    "Si un compte existe pour cette adresse, un lien de réinitialisation y a été envoyé."
)


@router.post("/auth/token", response_model=Token, dependencies=[Depends(rate_limited("login"))])
async def issue_token(
    request: Request,
    response: Response,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange an e-mail and password for a bearer token. The web app (header
    `X-Requested-With: carto-web`) also gets it as an HttpOnly session cookie."""
    user = await service.authenticate(
        session=session,
        email=form.username,
        password=form.password,
        address=client_address(request) or "unknown",
        secret=request.app.state.secret_key,
    )
    if user is None:
        raise NotAuthenticated("Adresse e-mail ou mot de passe incorrect.")
    settings = request.app.state.settings
    token = create_access_token(
        user.id, settings, request.app.state.secret_key, version=user.token_version
    )
    if request.headers.get(WEB_CLIENT_HEADER) == WEB_CLIENT:
        secure = request.url.scheme == "https" or (settings.public_url or "").startswith("https:")
        response.set_cookie(
            SESSION_COOKIE, token, max_age=settings.token_ttl_minutes * 60, path="/api",
            httponly=True, secure=secure, samesite="strict",
        )  # fmt: skip
    return Token(access_token=token, expires_in=settings.token_ttl_minutes * 60)


@router.delete("/auth/session", status_code=204)
async def end_web_session() -> Response:
    """Sign-out of the web app: the session cookie is cleared (bearer tokens held by API
    clients expire on their own)."""
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/api", httponly=True, samesite="strict")
    return response


@router.post(
    "/auth/signup",
    response_model=Accepted,
    status_code=202,
    dependencies=[Depends(rate_limited("signup"))],
)
async def sign_up(
    request: Request, session: SessionDep, body: SignUp, base: BaseUrl, mail: MailerDep
) -> Accepted:
    """Create a citizen account and send the confirmation link. Answers the same whether
    or not the address already has an account (the owner gets an e-mail saying so)."""
    await service.sign_up_and_confirm(
        session=session, email=body.email, password=body.password, pseudonym=body.pseudonym,
        secret=request.app.state.secret_key, base_url=base, mail=mail,
    )  # fmt: skip
    return Accepted(message=SIGNUP_MESSAGE)


def _page(title: str, message: str, status: int) -> HTMLResponse:
    body = (
        f'<!doctype html><html lang="fr"><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<body style="font-family:system-ui;max-width:40em;margin:3em auto">'
        f'<h1>{escape(title)}</h1><p>{escape(message)}</p><p><a href="/">Retour à la carte</a></p>'
    )
    return HTMLResponse(body, status_code=status)


@router.get("/auth/verify", response_class=HTMLResponse)
async def verify_email(
    request: Request, session: SessionDep, token: Annotated[str, Query(max_length=2000)]
) -> HTMLResponse:
    """The link of the confirmation e-mail: marks the address as verified."""
    if not await service.confirm_email(
        session=session, token=token, secret=request.app.state.secret_key
    ):
        return _page("Lien invalide", "Ce lien de confirmation est invalide ou expiré.", 400)
    return _page("Adresse confirmée", "Merci : votre adresse e-mail est confirmée.", 200)


@router.post(
    "/auth/password-reset",
    response_model=Accepted,
    status_code=202,
    dependencies=[Depends(rate_limited("login"))],
)
async def request_password_reset(
    request: Request, session: SessionDep, body: PasswordResetRequest, base: BaseUrl,
    mail: MailerDep,
) -> Accepted:  # fmt: skip
    await service.send_password_reset(
        session=session, email=body.email, secret=request.app.state.secret_key, base_url=base,
        mail=mail,
    )  # fmt: skip
    return Accepted(message=RESET_MESSAGE)


@router.post(
    "/auth/password-reset/confirm",
    response_model=Accepted,
    dependencies=[Depends(rate_limited("login"))],
)
async def confirm_password_reset(
    request: Request, session: SessionDep, body: PasswordResetConfirm
) -> Accepted:
    await service.reset_password(
        session=session, token=body.token, password=body.password,
        secret=request.app.state.secret_key,
    )  # fmt: skip
    return Accepted(message="Mot de passe modifié : vous pouvez vous connecter.")


async def _me_user(principal: CurrentPrincipal, session: SessionDep) -> User:
    user = await service.get_user(session=session, user_id=principal.user_id)
    if user is None:
        raise NotAuthenticated("Compte inconnu.")
    return user


MeUser = Annotated[User, Depends(_me_user)]


@router.post("/auth/logout-all", response_model=Accepted)
async def log_out_everywhere(user: MeUser, session: SessionDep) -> Accepted:
    """Log out everywhere: every token of the account stops working, this one too (a
    stolen token dies with the others)."""
    await service.revoke_tokens(session=session, user=user)
    return Accepted(
        message="Vous êtes déconnecté(e) partout : reconnectez-vous sur chaque appareil."
    )


@router.get("/me", response_model=UserMe)
async def me(user: MeUser) -> UserMe:
    return UserMe(
        id=user.id,
        email=user.email,
        pseudonym=user.pseudonym,
        email_verified=user.email_verified,
        roles=[
            RoleGrantPublic(role=g.role, service_id=g.service_id, authority_id=g.authority_id)
            for g in user.grants
        ],
    )


@router.get("/me/export")
async def export_my_data(user: MeUser, session: SessionDep) -> dict[str, object]:
    """All the data Carto holds about the caller (RGPD right of access and portability)."""
    return await service.export_personal_data(session=session, user=user)


@router.post("/me/delete", response_model=Accepted)
async def delete_my_account(user: MeUser, session: SessionDep, body: AccountDeletion) -> Accepted:
    """Delete the caller's account: contributions stay, anonymised; e-mail and name are gone."""
    await service.delete_account(session=session, user=user, password=body.password)
    return Accepted(message="Compte supprimé. Vos contributions restent, anonymisées.")


@router.get("/rgpd/registre", response_model=list[ProcessingPublic])
async def register_of_processing() -> list[ProcessingPublic]:
    """The register of processing activities (what is stored, why, for how long)."""
    return [ProcessingPublic(**p.__dict__) for p in processing_register()]


pages = APIRouter(tags=["comptes"])


@pages.get("/rgpd", response_class=HTMLResponse)
async def register_page() -> HTMLResponse:
    """The same register as a page, linked from the site's footer."""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(v)}</td>"
            for v in (p.name, p.data, p.purpose, p.legal_basis, p.retention, p.recipients)
        )
        + "</tr>"
        for p in processing_register()
    )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Traitement", "Données", "Finalité", "Base légale", "Durée", "Destinataires")
    )
    return HTMLResponse(
        '<!doctype html><html lang="fr"><meta charset="utf-8">'
        "<title>Registre des traitements — Carto</title>"
        '<body style="font-family:system-ui;margin:2em">'
        "<h1>Registre des traitements de données personnelles</h1>"
        "<p>Ce que Carto conserve, pourquoi et combien de temps (RGPD, article 30). "
        "Pour exercer vos droits : « Mon compte » → « Télécharger mes données » ou "
        "« Supprimer mon compte ».</p>"
        f'<table border="1" cellpadding="6"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
