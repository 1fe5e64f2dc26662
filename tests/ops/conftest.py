"""The outbox fixtures of the notification tests, for the metrics tests."""

from tests.notifications.conftest import committing_session, outbox  # noqa: F401
