"""The e-mails a client's stakeholder gets: the invitation to answer a round, and one
reminder before it closes — written when sent, in the invitation's language, with the
link written again from the invitation (voice.services.invitation_secret)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.links import site_url
from voice.models import Invitation
from voice.services import client_questions, invitation_secret, survey_minutes


def invitation_email(invitation: Invitation, *, reminder: bool) -> tuple[str, str]:
    """Subject and body of the invitation's e-mail (or its reminder)."""
    engagement = invitation.round.engagement
    link = site_url(reverse("voice:survey", args=[invitation_secret(invitation)]))
    count = len(client_questions(invitation.round.version))
    with translation.override(invitation.language):
        values = {
            "name": invitation.stakeholder.name,
            "supplier": settings.SUPPLIER_NAME,
            "client": engagement.client.name,
            "engagement": engagement.get_process_type_display(),
            "day": formats.date_format(invitation.round.closes_on, "DATE_FORMAT"),
            "count": count,
            "minutes": survey_minutes(count),
            "link": link,
        }
        if reminder:
            subject = _("Reminder: your view of our work together on %(engagement)s") % values
            opening = _(
                "A reminder: the survey on how %(client)s works with us on %(engagement)s "
                "closes on %(day)s, and we would value your view."
            )
        else:
            subject = _("Your view of our work together on %(engagement)s") % values
            opening = (
                _(
                    "%(supplier)s would like to know how your team sees our work together on "
                    "%(engagement)s for %(client)s."
                )
                if settings.SUPPLIER_NAME
                else _(
                    "We would like to know how your team sees our work together on "
                    "%(engagement)s for %(client)s."
                )
            )
        paragraphs = [
            _("Hello %(name)s,") % values,
            opening % values,
            ngettext(
                "There is %(count)s question, about %(minutes)s min: choose the description "
                "closest to how things are today. There are no right or wrong answers.",
                "There are %(count)s questions, about %(minutes)s min: for each, choose the "
                "description closest to how things are today. There are no right or wrong "
                "answers.",
                count,
            )
            % values,
            _("Your personal link, open until %(day)s (please do not forward it):") % values
            + f"\n{link}",
            _(
                "You can come back and change your answers until then. If you would rather "
                "not answer, simply ignore this e-mail."
            ),
        ]
        if settings.SUPPLIER_NAME:
            subject = f"[{settings.SUPPLIER_NAME}] {subject}"
    return subject, "\n\n".join(paragraphs) + "\n"
