"""In the app: the notification centre and the bell read the notification rows, so being
written is being delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from education.channels.base import Channel

if TYPE_CHECKING:
    from education.models import Notification


class InApp(Channel):
    name = "in_app"
    label = _("In the app")
    relayed = False

    def send(self, notification: Notification) -> None:
        """Nothing to send: the row the relay would read is what the app shows."""
