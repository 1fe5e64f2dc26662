"""`/suivi-mairie/{token}`: the page of a follow link (notifications/follow_link.py).

The staff of an authority that does not use Carto see the ticket e-mailed to their
front desk and acknowledge, start, resolve or reject it, without an account. The
link acts only while the ticket is open and still with the recipient's service (a
re-routed ticket's old links stop acting); every action is a lifecycle transition
whose internal note reads « par e-mail (recipient) ». Refusals are French HTML pages
with their 4xx status, and store nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carto.deps import SessionDep, base_url
from carto.errors import CartoError, Conflict, Forbidden, InvalidInput, NotFound
from carto.notifications.follow_link import PATH, FollowClaim, verify
from carto.routing.models import Service
from carto.signalements import lifecycle, public_page
from carto.signalements.models import Signalement
from carto.signalements.schemas import AddressPublic
from carto.signalements.states import ACTION_LABELS, CLOSED, LABELS

router = APIRouter(tags=["signalements"], include_in_schema=False)
ACTIONS = ("acknowledged", "in_progress", "resolved", "rejected")
NOTE_MAX = 2000
HEADERS = {"Cache-Control": "no-store"}  # the token is in the URL (Referrer-Policy: app-wide)


@dataclass(frozen=True)
class _ByEmail:
    """The recipient acting through the link: staff of the ticket's service only."""

    user_id: int | None
    service_ids: frozenset[int]
    admin_authority_ids: frozenset[int] = field(default_factory=frozenset)


def _html(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = (
        f'<!doctype html><html lang="fr"><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers=HEADERS)


def _refusal(exc: CartoError) -> HTMLResponse:
    return _html("Action impossible", f"<p>{escape(exc.message)}</p>", exc.status_code)


async def _claimed(
    request: Request, session: AsyncSession, token: str
) -> tuple[FollowClaim, Signalement]:
    claim = verify(request.app.state.secret_key, token)
    sig = await session.get(Signalement, claim.signalement_id)
    if sig is None:
        raise NotFound(f"Signalement n° {claim.signalement_id} introuvable.")
    email = await session.scalar(select(Service.email).where(Service.id == sig.service_id))
    if (email or "").strip().lower() != claim.recipient:
        raise Forbidden(
            "Ce lien ne permet plus d'agir : le signalement a été confié à un autre service."
        )
    return claim, sig


def _address_label(address: AddressPublic | str | None) -> str:
    if isinstance(address, AddressPublic):
        return address.label
    return address or "non précisée"


async def _ticket(session: AsyncSession, sig: Signalement, token: str, notice: str) -> HTMLResponse:
    page = await public_page.get_public(session=session, signalement_id=sig.id)
    lines = [
        f"<p>{escape(notice)}</p>" if notice else "",
        f"<p><strong>{escape(page.category)}</strong> — état : {escape(page.state_label)}</p>",
        f"<p>Adresse : {escape(_address_label(page.address))}</p>",
        f"<p>Description : {escape(page.description)}</p>",
        f"<p>Routage : {escape(page.explanation)}</p>",
        "<h2>Historique</h2><ul>",
        *(f"<li>{h.at:%d/%m/%Y %H:%M} — {escape(h.label)}"
          f"{' : ' + escape(h.note) if h.note else ''}</li>" for h in page.history),
        "</ul>",
    ]  # fmt: skip
    if sig.state not in CLOSED:
        options = "".join(
            f'<option value="{a}">{escape(ACTION_LABELS[a])}</option>' for a in ACTIONS
        )
        lines.append(
            f'<form method="post" action="{PATH}{escape(token)}"><h2>Répondre</h2>'
            f'<label>Action <select name="action">{options}</select></label> '
            "<label>Note pour le citoyen (obligatoire pour un rejet) "
            f'<textarea name="note" maxlength="{NOTE_MAX}"></textarea></label> '
            "<button>Envoyer</button></form>"
        )
    return _html(f"Signalement n° {sig.id}", "".join(lines))


@router.get(PATH + "{token}", response_class=HTMLResponse)
async def follow(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """The ticket as its recipient sees it, with the actions while it is open."""
    try:
        _, sig = await _claimed(request, session, token)
        return await _ticket(session, sig, token, "")
    except CartoError as exc:
        return _refusal(exc)


@router.post(PATH + "{token}", response_class=HTMLResponse)
async def act(
    request: Request,
    session: SessionDep,
    token: str,
    action: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Acknowledge, start, resolve or reject the ticket as « par e-mail (recipient) ».
    The fields are checked here, not by FastAPI, so every refusal is this French page."""
    try:
        claim, sig = await _claimed(request, session, token)
        if action not in ACTIONS:
            raise InvalidInput(f"Action inconnue : « {action[:20]} ».")
        if len(note) > NOTE_MAX or "\x00" in note:
            raise InvalidInput(f"La note doit tenir en {NOTE_MAX} caractères, sans caractère nul.")
        if sig.state in CLOSED:
            raise Conflict(
                f"Ce signalement est clos ({LABELS[sig.state]}) : ce lien ne permet plus d'agir."
            )
        await lifecycle.transition(
            session=session, signalement_id=sig.id, to=action, note=note,
            actor=_ByEmail(user_id=None, service_ids=frozenset({sig.service_id})),
            internal_note=f"par e-mail ({claim.recipient})", base_url=base_url(request),
        )  # fmt: skip
        return await _ticket(session, sig, token, f"C'est noté : {LABELS[action]}.")
    except CartoError as exc:
        await session.rollback()
        return _refusal(exc)
