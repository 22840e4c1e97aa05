"""What a notification channel is: a name, who it reaches, and one ``send()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from education.models import Notification


@dataclass(frozen=True)
class Recipient:
    """Who a notification is for, as much as a channel needs to decide whether it reaches
    them (the dispatcher knows this without loading users)."""

    id: int
    email: str = ""


class Channel:
    """A way a notification reaches its recipient.

    A channel is instantiated once per relay pass: ``send()`` may keep a connection open
    between calls, and ``close()`` ends it (also after a failure). ``send()`` raises on any
    failure; the relay records the error and retries with backoff. A channel that is not
    ``relayed`` is delivered by the notification being written (no delivery row, no send).
    """

    name: ClassVar[str]
    label: ClassVar[str | Promise]
    relayed: ClassVar[bool] = True
    # Whether it can reach a client's stakeholder, who is not a user (an e-mail can; the
    # notification centre cannot).
    reaches_stakeholders: ClassVar[bool] = False

    @classmethod
    def reaches(cls, recipient: Recipient) -> bool:
        """Whether a notification for this recipient is delivered through this channel."""
        return True

    def send(self, notification: Notification) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """End what ``send()`` opened; called once per pass, also after a failure."""
