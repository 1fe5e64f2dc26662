"""The outbox and SMTP fixtures of the notification tests, for the ops tests."""

from tests.notifications.conftest import committing_session, outbox, smtp  # noqa: F401
