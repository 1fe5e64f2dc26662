"""Where the variation points are filled: one call, made by `create_app` and by the
worker's start, registers every implementation a process may need (outbox senders,
the personal-data providers of the features, the accounts' mailer).

Registries that hold only built-in data (export formats, tile layers) declare it with
the registry itself; the tile SQL's migrations read the tile layers without wiring.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from carto.accounts.privacy import PROVIDERS
from carto.accounts.service import Mailer
from carto.concertations.privacy import PROVIDER as CONCERTATIONS_PRIVACY
from carto.notifications.senders import SENDERS, email_sender, webhook_sender
from carto.notifications.service import notify_email
from carto.signalements.privacy import PROVIDER as SIGNALEMENTS_PRIVACY


def register_variations() -> None:
    """Fill every registry (idempotent: the tests build many apps in one process)."""
    SENDERS.register("email", email_sender)
    SENDERS.register("webhook", webhook_sender)
    for provider in (SIGNALEMENTS_PRIVACY, CONCERTATIONS_PRIVACY):
        PROVIDERS.register(provider.name, provider)


async def queue_mail(
    *, session: AsyncSession, to: str, subject: str, text: str, event_key: str
) -> None:
    """The accounts' Mailer: an e-mail in the outbox, sent once the caller commits."""
    await notify_email(
        session=session, to=to, subject=subject, text=text, event_key=event_key, authority_id=None
    )


MAILER: Mailer = queue_mail
