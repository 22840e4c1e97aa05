"""What a notification says, rendered when it is read — in the reader's language.

Notifications store a kind and the facts (``params``) frozen when they were written; the
words come from here, so the notification centre follows the interface language and each
e-mail is written in its recipient's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments.i18n import localized
from core.links import site_url
from education.models import Notification, NotificationKind
from voice.messages import invitation_email


@dataclass(frozen=True)
class Text:
    title: str
    body: str
    url: str


def _title(params: dict[str, Any]) -> str:
    title = params.get("title")
    if isinstance(title, dict):
        return localized(title)
    return str(title or "")


def _day(params: dict[str, Any], key: str = "due_date") -> str:
    raw = params.get(key)
    try:
        return formats.date_format(date.fromisoformat(str(raw)), "SHORT_DATE_FORMAT")
    except ValueError:
        return str(raw or "")


def _client_url(params: dict[str, Any], anchor: str = "") -> str:
    client_id = params.get("client_id")
    if not isinstance(client_id, int):
        return reverse("education:agenda")
    return reverse("clients:detail", args=[client_id]) + anchor


def text_of(notification: Notification) -> Text:
    """The notification in the active language."""
    p = notification.params or {}
    kind = notification.kind
    client = str(p.get("client", ""))
    if kind == NotificationKind.PLAN_READY:
        actions = int(p.get("actions") or 0)
        return Text(
            _("Education plan ready for %(client)s") % {"client": client},
            ngettext(
                "The assessment of %(engagement)s produced %(count)s education action.",
                "The assessment of %(engagement)s produced %(count)s education actions.",
                actions,
            )
            % {"engagement": p.get("engagement", ""), "count": actions},
            _client_url(p, "#plan"),
        )
    values = {"title": _title(p), "client": client, "due": _day(p)}
    if kind == NotificationKind.ASSIGNED:
        return Text(
            _("New action for you: %(title)s") % values,
            _("%(by)s assigned you “%(title)s” for %(client)s, due %(due)s.")
            % {**values, "by": p.get("by", "")},
            reverse("education:agenda"),
        )
    if kind == NotificationKind.REMINDER:
        return Text(
            _("Due %(due)s: %(title)s") % values,
            _("“%(title)s” for %(client)s is due on %(due)s.") % values,
            reverse("education:agenda"),
        )
    if kind == NotificationKind.OVERDUE:
        return Text(
            _("Overdue: %(title)s") % values,
            _(
                "“%(title)s” for %(client)s was due on %(due)s. Complete it, reschedule it or "
                "skip it with a reason."
            )
            % values,
            reverse("education:agenda"),
        )
    if kind == NotificationKind.ESCALATION:
        return Text(
            _("Escalated: %(title)s at %(client)s") % values,
            _("“%(title)s” for %(client)s has been overdue since %(due)s and is still open.")
            % values,
            _client_url(p, "#plan"),
        )
    if kind == NotificationKind.REASSESSMENT:
        return Text(
            _("Time to reassess %(client)s") % {"client": client},
            _(
                "%(engagement)s was last assessed on %(date)s (level %(level)s): assess it "
                "again to see whether the education worked."
            )
            % {
                "engagement": p.get("engagement", ""),
                "date": _day(p, "last_assessed"),
                "level": p.get("level") or "—",
            },
            _client_url(p),
        )
    if kind == NotificationKind.DIGEST:
        return Text(
            _("Weekly education digest, %(week)s") % {"week": p.get("week", "")},
            _(
                "Overdue actions: %(overdue)s. Escalated this week: %(escalated)s. Done in the "
                "last 7 days: %(done)s. Due in the next 7 days: %(coming)s. Completion rate: "
                "%(rate)s%%."
            )
            % {
                "overdue": p.get("overdue", 0),
                "escalated": p.get("escalated", 0),
                "done": p.get("done_week", 0),
                "coming": p.get("due_next_week", 0),
                "rate": p.get("completion_rate", 0),
            },
            reverse("education:agenda"),
        )
    if kind == NotificationKind.RATING_REQUESTED:
        sheet = p.get("sheet")
        return Text(
            _("Rate %(client)s: your sheet is ready") % {"client": client},
            _(
                "%(by)s asks you to rate %(engagement)s for %(client)s on a sheet of your own, "
                "by %(due)s. Nobody sees it until you hand it in."
            )
            % {**values, "engagement": p.get("engagement", ""), "by": p.get("by", "")},
            reverse("assessments:fill", args=[sheet]) if isinstance(sheet, int) else _client_url(p),
        )
    if kind == NotificationKind.WEBHOOK_DISABLED:
        return Text(
            _("Webhook endpoint turned off: %(url)s") % {"url": p.get("url", "")},
            _(
                "%(failures)s deliveries in a row to %(url)s failed since %(since)s (last: "
                "%(reason)s), so it was turned off. Fix the receiver, turn the endpoint on "
                "again and replay what it missed."
            )
            % {
                "failures": p.get("failures", 0),
                "url": p.get("url", ""),
                "since": _day(p, "since"),
                "reason": p.get("reason", ""),
            },
            reverse("webhooks:detail", args=[p["endpoint"]])
            if isinstance(p.get("endpoint"), int)
            else reverse("webhooks:list"),
        )
    return Text(notification.get_kind_display(), "", reverse("education:notifications"))


def render_email(notification: Notification) -> tuple[str, str, str]:
    """Subject, body and address of the notification's e-mail, in its recipient's
    language; to a client's stakeholder, the e-mail of their invitation."""
    invitation = notification.invitation
    if invitation is not None:
        subject, body = invitation_email(
            invitation, reminder=notification.kind == NotificationKind.CLIENT_REMINDER
        )
        return subject, body, invitation.stakeholder.email
    recipient = notification.recipient
    assert recipient is not None  # a notification is to a user or an invitation
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        text = text_of(notification)
        link = site_url(text.url)
        footer = _("Open it in Maturity: %(link)s") % {"link": link}
    return f"[Maturity] {text.title}", f"{text.body}\n\n{footer}\n", recipient.email
