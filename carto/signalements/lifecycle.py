"""What happens to a ticket after intake: transitions, transfers, merges, supports.

Every check comes before any write, on the ticket row locked FOR UPDATE, so a
refusal (401/403/409/422) changes nothing. Every accepted change is an event
row, whose notifications are queued in the same transaction.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import literal, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from carto.errors import Conflict, Forbidden, InvalidInput, NotFound
from carto.routing.models import Category, Service
from carto.signalements import notify
from carto.signalements.models import (
    Signalement,
    SignalementEvent,
    SignalementReporter,
    SignalementSupport,
)
from carto.signalements.schemas import SupportResult
from carto.signalements.states import CLOSED, LABELS, REQUESTABLE, STATES, find

SATELLITES = ("signalement_event", "signalement_reporter", "signalement_photo",
              "signalement_support")  # fmt: skip
REPORTER_ONLY = "Vous pouvez seulement rouvrir votre signalement, une fois résolu ou rejeté."
NOT_STAFF = (
    "Seuls les agents du service chargé de ce signalement et les administrateurs de sa "
    "collectivité peuvent le traiter."
)


class Actor(Protocol):
    """Who acts (carto.accounts.deps.Principal fits)."""

    @property
    def user_id(self) -> int | None: ...  # None: a follow link's recipient (no account)
    @property
    def service_ids(self) -> frozenset[int]: ...
    @property
    def admin_authority_ids(self) -> frozenset[int]: ...


def is_staff(actor: Actor, sig: Signalement) -> bool:
    return sig.service_id in actor.service_ids or sig.authority_id in actor.admin_authority_ids


async def locked(session: AsyncSession, signalement_id: int) -> Signalement:
    sig = await session.scalar(
        select(Signalement).where(Signalement.id == signalement_id).with_for_update()
    )
    if sig is None:
        raise NotFound(f"Signalement n° {signalement_id} introuvable.")
    return sig


def _check_target(to: str) -> None:
    if to == "duplicate":
        raise InvalidInput("Un doublon se déclare en le fusionnant dans l'autre signalement.")
    if to not in STATES or to not in REQUESTABLE:
        raise InvalidInput(
            f"État demandé inconnu : « {to} » (possibles : {', '.join(REQUESTABLE)})."
        )


async def _roles(session: AsyncSession, actor: Actor, sig: Signalement) -> set[str]:
    if is_staff(actor, sig):
        return {"staff"}  # staff may do all a reporter may
    roles: set[str] = set()
    reporter = await session.scalar(
        select(SignalementReporter.user_id).where(SignalementReporter.signalement_id == sig.id)
    )
    if reporter is not None and reporter == actor.user_id:
        roles.add("reporter")
    return roles


async def transition(
    *, session: AsyncSession, signalement_id: int, actor: Actor, to: str,
    note: str | None = None, internal_note: str | None = None, reopen_days: int = 30,
    now: datetime | None = None, notify_people: bool = True, base_url: str = "",
    commit: bool = True,
) -> None:  # fmt: skip
    """Move a ticket to `to`, if the lifecycle and the actor's role allow it."""
    sig = await locked(session, signalement_id)
    _check_target(to)
    roles = await _roles(session, actor, sig)
    if not roles:
        raise Forbidden(NOT_STAFF)
    if "staff" not in roles and to != "reopened":
        raise Forbidden(REPORTER_ONLY)
    step = find(sig.state, to)
    if step is None:
        raise Conflict(
            f"Transition impossible : un signalement « {LABELS[sig.state]} » ne peut pas "
            f"passer à « {LABELS[to]} »."
        )
    when = now or datetime.now(UTC)
    if not roles & step.by:
        raise Forbidden(REPORTER_ONLY)
    if "staff" not in roles:
        assert sig.closed_at is not None
        if sig.closed_at + timedelta(days=reopen_days) < when:
            raise Forbidden(
                f"Le délai de {reopen_days} jours pour rouvrir ce signalement est dépassé : "
                "faites un nouveau signalement."
            )
    note = (note or "").strip() or None
    if step.note_required and note is None:
        raise InvalidInput("Un motif est requis pour rejeter un signalement ; le citoyen le lira.")
    event = SignalementEvent(
        signalement_id=sig.id, authority_id=sig.authority_id, kind="state",
        from_state=sig.state, to_state=to, actor_user_id=actor.user_id, at=when,
        public_note=note, internal_note=(internal_note or "").strip() or None,
    )  # fmt: skip
    await _apply_state(session, sig, to, when)
    session.add(event)
    await session.flush()
    if notify_people:
        await notify.announce(session=session, signalement=sig, event=event, base_url=base_url)
    if commit:
        await session.commit()


async def _apply_state(session: AsyncSession, sig: Signalement, to: str, when: datetime) -> None:
    if to != "reopened" and sig.acknowledged_at is None and to in REQUESTABLE:
        sig.acknowledged_at = when  # handling a ticket acknowledges it
    if to in CLOSED:
        sig.closed_at = when
    if to == "reopened":
        due_days = await session.scalar(
            select(Category.due_days).where(Category.code == sig.category_code)
        )
        sig.closed_at = None
        sig.due_at = when + timedelta(days=due_days or 15)
    sig.state = to
    sig.updated_at = when


async def transfer(
    *, session: AsyncSession, signalement_id: int, actor: Actor, service_id: int, reason: str,
    internal_note: str | None = None, now: datetime | None = None, notify_people: bool = True,
    base_url: str = "", commit: bool = True,
) -> None:  # fmt: skip
    """Send an open ticket on to another service, with a reason the citizen will read."""
    sig = await locked(session, signalement_id)
    if not is_staff(actor, sig):
        raise Forbidden(NOT_STAFF)
    if sig.state in CLOSED:
        raise Conflict("Ce signalement est clos : rouvrez-le avant de le transférer.")
    target = await session.get(Service, service_id)
    if target is None:
        raise InvalidInput(f"Service inconnu : {service_id}.")
    if target.id == sig.service_id:
        raise InvalidInput("Ce signalement est déjà confié à ce service.")
    if not reason.strip():
        raise InvalidInput("Indiquez le motif du transfert ; le citoyen le lira.")
    when = now or datetime.now(UTC)
    event = SignalementEvent(
        signalement_id=sig.id, authority_id=target.authority_id, kind="transfer",
        from_state=sig.state, to_state="routed", from_service_id=sig.service_id,
        to_service_id=target.id, actor_user_id=actor.user_id, at=when,
        public_note=reason.strip(), internal_note=(internal_note or "").strip() or None,
    )  # fmt: skip
    if target.authority_id != sig.authority_id:
        # The tenant key follows the ticket: its rows stay together (Citus co-location).
        for table in SATELLITES:
            await session.execute(
                text(f"UPDATE {table} SET authority_id = :a WHERE signalement_id = :s"),
                {"a": target.authority_id, "s": sig.id},
            )
    sig.service_id, sig.authority_id = target.id, target.authority_id
    sig.state, sig.acknowledged_at, sig.updated_at = "routed", None, when
    session.add(event)
    await session.flush()
    if notify_people:
        await notify.announce(session=session, signalement=sig, event=event, base_url=base_url)
    if commit:
        await session.commit()


async def merge(
    *, session: AsyncSession, signalement_id: int, into: int, actor: Actor,
    note: str | None = None, now: datetime | None = None, notify_people: bool = True,
    base_url: str = "", commit: bool = True,
) -> None:  # fmt: skip
    """Close `signalement_id` as a duplicate of `into`, which gains its supports.

    The actor must be staff of both tickets: the target changes too."""
    if into == signalement_id:
        raise InvalidInput("Un signalement ne peut pas être le doublon de lui-même.")
    first, second = sorted((signalement_id, into))  # lock in id order: no deadlock
    locks = {first: await locked(session, first), second: await locked(session, second)}
    dup, target = locks[signalement_id], locks[into]
    if not is_staff(actor, dup):
        raise Forbidden(NOT_STAFF)
    if not is_staff(actor, target):  # the target gains supports and a public history line
        raise Forbidden(
            f"Vous ne traitez pas le signalement n° {into} : seuls ses agents et les "
            "administrateurs de sa collectivité peuvent y fusionner un doublon."
        )
    if find(dup.state, "duplicate") is None:
        raise Conflict(f"Ce signalement est « {LABELS[dup.state]} » : plus de fusion possible.")
    if target.state in CLOSED:
        raise Conflict(f"Le signalement n° {into} est clos : fusionnez dans un signalement ouvert.")
    when = now or datetime.now(UTC)
    events = [
        SignalementEvent(
            signalement_id=dup.id, authority_id=dup.authority_id, kind="merge",
            from_state=dup.state, to_state="duplicate", related_id=target.id,
            actor_user_id=actor.user_id, at=when,
            public_note=(note or "").strip() or f"Doublon du signalement n° {target.id}.",
        ),
        SignalementEvent(
            signalement_id=target.id, authority_id=target.authority_id, kind="merge",
            from_state=target.state, to_state=target.state, related_id=dup.id,
            actor_user_id=actor.user_id, at=when,
            public_note=f"Le signalement n° {dup.id} y a été fusionné (même problème).",
        ),
    ]  # fmt: skip
    await session.execute(
        insert(SignalementSupport)
        .from_select(
            ["signalement_id", "supporter", "user_id", "authority_id"],
            select(
                literal(target.id),
                SignalementSupport.supporter,
                SignalementSupport.user_id,
                literal(target.authority_id),
            ).where(SignalementSupport.signalement_id == dup.id),
        )
        .on_conflict_do_nothing()
    )
    target.supports += 1 + dup.supports
    dup.duplicate_of_id = target.id
    await _apply_state(session, dup, "duplicate", when)
    session.add_all(events)
    await session.flush()
    if notify_people:
        await notify.announce(session=session, signalement=dup, event=events[0], base_url=base_url)
    if commit:
        await session.commit()


def supporter_key(*, user_id: int | None, address: str | None, secret: str) -> str:
    """Who supports: the account, or else a keyed hash of the address (never the address)."""
    if user_id is not None:
        return f"u:{user_id}"
    digest = hashlib.blake2b((address or "?").encode(), key=secret.encode()[:64], digest_size=16)
    return f"a:{digest.hexdigest()}"


async def support(
    *, session: AsyncSession, signalement_id: int, supporter: str, user_id: int | None = None,
    commit: bool = True,
) -> SupportResult:  # fmt: skip
    """+1 on an open ticket, once per supporter (a second call changes nothing)."""
    sig = await locked(session, signalement_id)
    if sig.state in CLOSED:
        raise Conflict("Ce signalement est clos : faites un nouveau signalement si besoin.")
    added = await session.scalar(
        insert(SignalementSupport)
        .values(
            signalement_id=sig.id,
            supporter=supporter,
            user_id=user_id,
            authority_id=sig.authority_id,
        )  # fmt: skip
        .on_conflict_do_nothing()
        .returning(SignalementSupport.supporter)
    )
    if added is not None:
        await session.execute(
            update(Signalement)
            .where(Signalement.id == sig.id)
            .values(supports=Signalement.supports + 1)
        )
        await session.refresh(sig, ["supports"])
    result = SupportResult(id=sig.id, supports=sig.supports, supported=True)
    if commit:
        await session.commit()
    return result
