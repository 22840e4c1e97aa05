"""Notification channels: each a module with one ``send()``, listed once in ``CHANNELS``.

Adding a channel (the webhook channel, say) is a module with a :class:`Channel` subclass
and one line below. A notification is written with a delivery row for every relayed
channel that reaches its recipient; the relay (``education/services/relay.py``) sends
each row through its channel with retries and backoff, and records the outcome on the row.
"""

from __future__ import annotations

from education.channels.base import Channel, Recipient
from education.channels.email import Email
from education.channels.in_app import InApp

CHANNELS: dict[str, type[Channel]] = {
    InApp.name: InApp,
    Email.name: Email,
}


def relayed() -> list[type[Channel]]:
    """The channels that keep a delivery row and are sent by the relay."""
    return [channel for channel in CHANNELS.values() if channel.relayed]


def for_recipient(recipient: Recipient) -> tuple[str, ...]:
    """The relayed channels a notification for ``recipient`` goes out through."""
    return tuple(c.name for c in relayed() if c.reaches(recipient))


def for_stakeholder(email: str) -> tuple[str, ...]:
    """The relayed channels that reach a client's stakeholder (not a user) at ``email``."""
    return tuple(
        c.name for c in relayed() if c.reaches_stakeholders and c.reaches(Recipient(0, email))
    )


__all__ = ["CHANNELS", "Channel", "Recipient", "for_recipient", "for_stakeholder", "relayed"]
