"""E-mail, in the recipient's language, over one SMTP connection per relay pass.

The notification's idempotency key is the message's Message-ID, so a receiver can drop a
copy re-sent after a worker died between sending and recording it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext_lazy as _

from education.channels.base import Channel, Recipient
from education.messages import render_email

if TYPE_CHECKING:
    from education.models import Notification

log = logging.getLogger(__name__)


def message_id(key: str) -> str:
    return f"<{key}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


class Email(Channel):
    name = "email"
    label = _("E-mail")
    reaches_stakeholders = True

    def __init__(self) -> None:
        self._connection: Any = None

    @classmethod
    def reaches(cls, recipient: Recipient) -> bool:
        return bool(recipient.email)

    def send(self, notification: Notification) -> None:
        if self._connection is None:
            # Opened here, so the backend keeps it open across messages.
            self._connection = get_connection(fail_silently=False)
            self._connection.open()
        subject, body, address = render_email(notification)
        if not address:  # a stakeholder's e-mail erased since: retried, then given up
            raise ValueError("the recipient has no e-mail address")
        try:
            EmailMessage(
                subject=subject,
                body=body,
                to=[address],
                headers={"Message-ID": message_id(notification.idempotency_key)},
                connection=self._connection,
            ).send()
        except Exception:
            self.close()  # a broken connection is not reused
            raise

    def close(self) -> None:
        """Close the connection whatever its state (a broken one is simply dropped)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                log.warning("closing the mail connection failed", exc_info=True)
