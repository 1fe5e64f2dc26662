"""Notifications through a transactional outbox: callers enqueue in their own transaction
(`notify_email`, `notify_webhook`); a worker delivers with retries (`worker.py`).
"""

from carto.notifications.service import notify_email, notify_webhook

__all__ = ["notify_email", "notify_webhook"]
