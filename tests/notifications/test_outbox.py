"""The outbox: transactional enqueue, real SMTP and webhook delivery, crashes, races, retries."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from carto.app import create_app
from carto.db import make_async_engine
from carto.errors import InvalidInput
from carto.notifications import notify_email, notify_webhook
from carto.notifications.models import OutboxMessage
from carto.notifications.senders import (
    LogEmailSender,
    SmtpEmailSender,
    build_senders,
    is_public_address,
    message_id,
)
from carto.notifications.worker import OutboxWorker
from carto.settings import Settings
from carto.worker import make_worker
from tests.notifications.conftest import REFUSED


async def rows(engine: AsyncEngine) -> list[OutboxMessage]:
    async with AsyncSession(engine) as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


async def queue_email(session: AsyncSession, key: str, to: str = "citoyen@exemple.test") -> None:
    await notify_email(
        session=session,
        to=to,
        subject="Votre signalement\r\nBcc: pirate@exemple.test",
        text="Votre signalement a été pris en compte.",
        event_key=key,
        authority_id=None,
    )


async def test_enqueue_follows_the_callers_transaction(committing_session, outbox) -> None:
    await queue_email(committing_session, "sig:1:routed")
    await committing_session.rollback()
    assert await rows(outbox) == []
    await queue_email(committing_session, "sig:1:routed")
    await committing_session.commit()
    await queue_email(committing_session, "sig:1:routed")  # a retry of the same event
    await committing_session.commit()
    [row] = await rows(outbox)
    assert (row.channel, row.status, row.attempts) == ("email", "pending", 0)
    assert row.payload["subject"] == "Votre signalement Bcc: pirate@exemple.test"


async def test_bad_address_is_refused(committing_session, outbox) -> None:
    for bad in ("pas-une-adresse", "a@b", "x@exemple.test\r\nBcc: y@exemple.test"):
        with pytest.raises(InvalidInput):
            await queue_email(committing_session, f"k:{bad}", to=bad)
    assert await rows(outbox) == []


async def test_email_is_delivered_to_a_real_smtp_server(
    committing_session, outbox, smtp, smtp_settings
) -> None:
    inbox, _ = smtp
    await queue_email(committing_session, "sig:2:acknowledged")
    await committing_session.commit()
    worker = make_worker(outbox, smtp_settings)
    assert isinstance(worker.senders["email"], SmtpEmailSender)
    assert await worker.drain() == 1
    [mail] = inbox.messages
    assert mail["To"] == "citoyen@exemple.test"
    assert mail["Subject"] == "Votre signalement Bcc: pirate@exemple.test"
    assert mail["Bcc"] is None
    assert mail["Message-ID"] == message_id("sig:2:acknowledged", smtp_settings.smtp_from)
    assert mail["Message-ID"].endswith("@carto.example>")
    assert mail["X-Carto-Delivery"] == "sig:2:acknowledged"
    assert "pris en compte" in mail.get_payload(decode=True).decode()
    [row] = await rows(outbox)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1
    assert await worker.drain() == 0  # nothing is sent twice
    assert len(inbox.messages) == 1


async def test_webhook_is_signed_and_delivered(
    committing_session, outbox, receiver, webhook_service, settings
) -> None:
    await notify_webhook(
        session=committing_session,
        service_id=webhook_service,
        event="signalement.routed",
        payload={"id": 17, "at": datetime(2026, 5, 1, tzinfo=UTC)},
        event_key="sig:17:routed:service",
        authority_id=None,
    )
    await committing_session.commit()
    assert await make_worker(outbox, settings).drain() == 1
    [call] = receiver.calls
    assert call["valid"]
    assert call["headers"]["X-Carto-Event"] == "signalement.routed"
    assert call["headers"]["X-Carto-Delivery"] == "sig:17:routed:service"
    assert call["body"]["event"] == "signalement.routed"
    assert call["body"]["delivery"] == "sig:17:routed:service"
    assert call["body"]["data"] == {"id": 17, "at": "2026-05-01 00:00:00+00:00"}
    [row] = await rows(outbox)
    assert row.status == "sent"


async def test_webhook_is_skipped_for_a_service_without_url(committing_session, outbox) -> None:
    service_id = (
        await committing_session.execute(
            text("SELECT id FROM service WHERE webhook_url IS NULL ORDER BY id LIMIT 1")
        )
    ).scalar_one()
    await notify_webhook(
        session=committing_session,
        service_id=service_id,
        event="signalement.routed",
        payload={},
        event_key="sig:3:routed",
        authority_id=None,
    )
    await committing_session.commit()
    assert await rows(outbox) == []


async def test_a_crashed_worker_claim_is_delivered_after_its_lease(
    committing_session, outbox, smtp, smtp_settings
) -> None:
    inbox, _ = smtp
    await queue_email(committing_session, "sig:4:resolved")
    await committing_session.commit()
    senders = build_senders(smtp_settings, outbox)
    crashed = OutboxWorker(outbox, senders, lease_s=1.0)
    token, claimed = await crashed.claim()  # ... and the process dies before sending
    assert len(claimed) == 1
    restarted = OutboxWorker(outbox, senders, lease_s=30.0)
    assert await restarted.run_once() == 0  # the lease still holds
    await asyncio.sleep(1.1)
    assert await restarted.drain() == 1
    assert len(inbox.messages) == 1
    # the stale claim, were it to wake up, no longer owns the row and sends nothing
    assert await crashed.deliver(token, claimed[0]) is False
    assert len(inbox.messages) == 1
    [row] = await rows(outbox)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_two_concurrent_workers_never_send_the_same_row(
    committing_session, outbox, smtp, smtp_settings, demo_db
) -> None:
    inbox, _ = smtp
    for i in range(40):
        await queue_email(committing_session, f"race:{i}", to=f"c{i}@exemple.test")
    await committing_session.commit()
    engines = [make_async_engine(demo_db, pool_size=2, max_overflow=0) for _ in range(2)]
    try:
        workers = [
            OutboxWorker(e, build_senders(smtp_settings, e), batch=3, lease_s=60) for e in engines
        ]
        handled = await asyncio.gather(*(w.drain() for w in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(handled) == 40 and all(handled)  # both took part, together exactly 40
    ids = [mail["X-Carto-Delivery"] for mail in inbox.messages]
    assert sorted(ids) == sorted(f"race:{i}" for i in range(40))
    assert {(r.status, r.attempts) for r in await rows(outbox)} == {("sent", 1)}


async def test_failures_are_retried_then_marked_dead(
    committing_session, outbox, receiver, webhook_service, settings
) -> None:
    receiver.fail_first = 1000
    await notify_webhook(
        session=committing_session,
        service_id=webhook_service,
        event="signalement.closed",
        payload={"id": 5},
        event_key="sig:5:closed",
        authority_id=None,
    )
    await committing_session.commit()
    worker = OutboxWorker(outbox, build_senders(settings, outbox), max_attempts=3, backoff_s=0)
    assert await worker.drain() == 3
    assert len(receiver.calls) == 3 and all(c["valid"] for c in receiver.calls)
    [row] = await rows(outbox)
    assert (row.status, row.attempts) == ("dead", 3)
    assert row.last_error == "webhook : HTTP 500"
    assert await worker.drain() == 0


async def test_a_failure_waits_for_its_backoff_then_succeeds(
    committing_session, outbox, receiver, webhook_service, settings
) -> None:
    receiver.fail_first = 1
    await notify_webhook(
        session=committing_session,
        service_id=webhook_service,
        event="signalement.routed",
        payload={"id": 6},
        event_key="sig:6:routed",
        authority_id=None,
    )
    await committing_session.commit()
    worker = OutboxWorker(outbox, build_senders(settings, outbox), backoff_s=60)
    assert await worker.drain() == 1
    [row] = await rows(outbox)
    assert row.status == "failed" and row.attempts == 1
    wait = row.next_attempt_at - datetime.now(UTC)
    assert timedelta(seconds=40) < wait < timedelta(seconds=80)  # 60 s +- 20 % jitter
    assert await worker.drain() == 0  # not due yet
    async with outbox.begin() as conn:
        await conn.execute(text("UPDATE notification_outbox SET next_attempt_at = now()"))
    assert await worker.drain() == 1
    [row] = await rows(outbox)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(receiver.calls) == 2


async def test_a_refused_recipient_is_dead_at_once(
    committing_session, outbox, smtp, smtp_settings
) -> None:
    await queue_email(committing_session, "sig:7:routed", to=REFUSED)
    await committing_session.commit()
    assert await make_worker(outbox, smtp_settings).drain() == 1
    [row] = await rows(outbox)
    assert (row.status, row.attempts) == ("dead", 1)


async def test_without_smtp_emails_are_logged_not_lost(
    committing_session, outbox, settings, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="carto.notifications")
    worker = make_worker(outbox, settings)  # no CARTO_SMTP_HOST
    assert isinstance(worker.senders["email"], LogEmailSender)
    assert "seulement journalisés" in caplog.text
    await queue_email(committing_session, "sig:8:routed")
    await committing_session.commit()
    assert await worker.drain() == 1
    assert "sig:8:routed" in caplog.text
    assert "citoyen@exemple.test" not in caplog.text
    [row] = await rows(outbox)
    assert row.status == "sent"


async def test_the_app_lifespan_runs_the_worker_only_when_enabled(
    committing_session, outbox, smtp, smtp_settings, demo_db
) -> None:
    inbox, _ = smtp
    await queue_email(committing_session, "sig:9:routed")
    await committing_session.commit()
    off = create_app(
        smtp_settings.model_copy(update={"notifications_worker": False}), db_url=demo_db
    )
    async with off.router.lifespan_context(off):
        await asyncio.sleep(0.5)
    assert inbox.messages == []
    on_settings = smtp_settings.model_copy(
        update={"notifications_worker": True, "notifications_poll_s": 0.1}
    )
    on = create_app(on_settings, db_url=demo_db)
    async with on.router.lifespan_context(on):
        for _ in range(100):
            if inbox.messages:
                break
            await asyncio.sleep(0.1)
    assert [m["X-Carto-Delivery"] for m in inbox.messages] == ["sig:9:routed"]
    assert [r.status for r in await rows(outbox)] == ["sent"]


async def test_carto_worker_command_delivers(
    committing_session, outbox, smtp, smtp_settings, demo_db
) -> None:
    inbox, port = smtp
    await queue_email(committing_session, "sig:10:routed")
    await committing_session.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARTO_")}
    env.update(
        CARTO_DATABASE_URL=demo_db,
        CARTO_SMTP_HOST="127.0.0.1",
        CARTO_SMTP_PORT=str(port),
        CARTO_SMTP_STARTTLS="false",
    )
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "carto", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "1 notification(s) traitée(s)" in result.stderr
    assert [m["X-Carto-Delivery"] for m in inbox.messages] == ["sig:10:routed"]


async def test_rows_of_each_status_are_counted_once(committing_session, outbox) -> None:
    """The outbox accepts only known channels and statuses (constraints in the table)."""
    await queue_email(committing_session, "sig:11:routed")
    await committing_session.commit()
    with pytest.raises(Exception, match="status_known"):
        async with outbox.begin() as conn:
            await conn.execute(text("UPDATE notification_outbox SET status = 'lost'"))
    async with AsyncSession(outbox) as session:
        count = (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar()
    assert count == 1


def test_settings_default_to_an_in_app_worker() -> None:
    assert Settings().notifications_worker is True
    assert Settings(smtp_host="").smtp_host is None


async def test_a_service_without_secret_is_never_called_unsigned(
    committing_session, outbox, receiver, webhook_service, settings
) -> None:
    await notify_webhook(
        session=committing_session,
        service_id=webhook_service,
        event="signalement.routed",
        payload={"id": 12},
        event_key="sig:12:routed",
        authority_id=None,
    )
    await committing_session.commit()
    async with outbox.begin() as conn:
        await conn.execute(
            text("UPDATE service SET webhook_secret = NULL WHERE id = :id"), {"id": webhook_service}
        )
    assert await make_worker(outbox, settings).drain() == 1
    assert receiver.calls == []
    [row] = await rows(outbox)
    assert (row.status, row.last_error) == ("dead", "service sans secret de webhook")


async def test_a_webhook_aimed_at_the_servers_own_network_is_refused(
    committing_session, outbox, receiver, webhook_service, settings
) -> None:
    """SSRF: an authority's administrator sets the URL; by default the worker will not
    POST to loopback (the receiver here), private or link-local addresses."""
    await notify_webhook(
        session=committing_session,
        service_id=webhook_service,
        event="signalement.routed",
        payload={"id": 8},
        event_key="sig:8:routed",
        authority_id=None,
    )
    await committing_session.commit()
    strict = settings.model_copy(update={"webhook_allow_private_networks": False})
    assert await OutboxWorker(outbox, build_senders(strict, outbox)).drain() == 1
    [row] = await rows(outbox)
    assert row.status == "dead" and "adresse interne refusée" in row.last_error
    assert receiver.calls == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.10", False),
        ("169.254.169.254", False),  # cloud metadata
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("fe80::1%eth0", False),
        ("0.0.0.0", False),  # noqa: S104
        ("224.0.0.1", False),
        ("93.184.215.14", True),
        ("2a00:1450:4007:80e::200e", True),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public
