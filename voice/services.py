"""Every write of the client's voice: open and close rounds, invite stakeholders (the link's
secret is returned once and stored only as its digest), resend or revoke an invitation,
and a respondent's answers, saved as given and checked against the revision they read."""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.models import User
from assessments.models import Question, QuestionnaireVersion
from assessments.selectors import questions_by_id
from assessments.services import version_to_start
from clients.models import Engagement, Stakeholder
from core import languages
from core.links import site_url
from voice.models import ClientAnswer, Invitation, Round
from voice.signals import invitations_issued, round_changed
from webhooks.services import event_record

SECONDS_PER_QUESTION = 20  # reading five anchored levels and choosing one
MAX_ROUND_DAYS = 366  # a round collects views of one moment: it closes within a year


def survey_minutes(questions: int) -> int:
    """How long the survey takes, said on the page and in the e-mail."""
    return max(1, math.ceil(questions * SECONDS_PER_QUESTION / 60))


# --- Links ------------------------------------------------------------------------------
# A link's secret is the HMAC-SHA256 of a random nonce under the SECRET_KEY (256 bits,
# URL-safe base64). The row keeps the nonce and the secret's SHA-256, never the secret:
# the e-mail relay writes the link again from the nonce, and a copy of the database
# alone opens nothing.


def link_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _secret_of(nonce: str) -> str:
    mac = salted_hmac("voice.invitation-link", nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _new_link() -> tuple[str, str, str]:
    """A fresh nonce, the secret it gives and that secret's digest."""
    nonce = secrets.token_urlsafe(16)
    secret = _secret_of(nonce)
    return nonce, secret, link_digest(secret)


def invitation_secret(invitation: Invitation) -> str:
    """The secret of the invitation's link, written again (for its e-mail). Should the
    SECRET_KEY have changed since the link was made, the row takes the digest of the
    secret the key now gives: the link e-mailed now works, an older one no longer."""
    secret = _secret_of(invitation.nonce)
    digest = link_digest(secret)
    if digest != invitation.token_digest:
        Invitation.objects.filter(pk=invitation.pk).update(token_digest=digest)
        invitation.token_digest = digest
    return secret


def client_questions(version: QuestionnaireVersion) -> list[Question]:
    """The questions of ``version`` asked of the client, in the form's order."""
    return [q for q in questions_by_id(version).values() if q.asked_of_the_client]


def round_ends_at(round: Round) -> datetime:
    """The end of the round's closing day: when its links expire."""
    return timezone.make_aware(datetime.combine(round.closes_on, time.max))


def round_end(round: Round) -> datetime:
    """When a round stopped (or stops) collecting views: when it was closed, else the
    end of its closing day."""
    return round.closed_at if round.closed_at is not None else round_ends_at(round)


def page_path(engagement: Engagement) -> str:
    """The engagement's "Client's view" page (web/client_voice.py), where managers follow
    its rounds: what e-mails and events link to."""
    return reverse("clients:voice", args=[engagement.client_id, engagement.pk])


# --- Rounds -----------------------------------------------------------------------------


def round_open(
    *,
    engagement: Engagement,
    by: User,
    closes_on: date,
    version: QuestionnaireVersion | None = None,
) -> Round:
    """A new round on ``engagement`` (one open at a time), on ``version`` (by default the
    current version of the default questionnaire), which must ask the client something."""
    version = version_to_start(version)
    if not client_questions(version):
        raise ValidationError({"version": _("This questionnaire version asks the client nothing.")})
    if closes_on <= timezone.localdate():
        raise ValidationError({"closes_on": _("Choose a closing day after today.")})
    if closes_on > timezone.localdate() + timedelta(days=MAX_ROUND_DAYS):
        raise ValidationError({"closes_on": _("Choose a closing day within a year.")})
    try:
        with transaction.atomic():
            return Round.objects.create(
                engagement=engagement, version=version, opened_by=by, closes_on=closes_on
            )
    except IntegrityError:
        raise ValidationError(
            _("This engagement already has an open round: close it first."), code="open_round"
        ) from None


@transaction.atomic
def round_close(*, round: Round, by: User | None, at: datetime | None = None) -> Round:
    """Close the round (at ``at``, by default now): its links stop working; what was
    answered stays. ``by`` is None when its closing day passed (rounds_close_due)."""
    # Locked and read again: a manager's close and the dispatcher's may meet.
    locked = Round.objects.select_for_update().select_related("engagement").get(pk=round.pk)
    if locked.closed_at is None:
        locked.closed_at = at or timezone.now()
        locked.save(update_fields=["closed_at"])
        round_changed.send(Round, round=locked, closed=True)
    round.closed_at = locked.closed_at
    return round


def rounds_close_due(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Close the rounds whose closing day has passed, each as of the end of that day (so
    its gap compares with our view as it stood then), each in its own transaction: the
    dispatcher's pass. Returns how many."""
    today = timezone.localdate(now or timezone.now())
    due = list(
        Round.objects.filter(closed_at__isnull=True, closes_on__lt=today).select_related(
            "engagement"
        )[:batch_size]
    )
    for round in due:
        round_close(round=round, by=None, at=round_ends_at(round))
    return len(due)


# --- Invitations ------------------------------------------------------------------------


def invitation_create(
    *, round: Round, stakeholder: Stakeholder, language: str, by: User
) -> tuple[Invitation, str]:
    """Invite one of the engagement's client's stakeholders to answer the round, in
    ``language``. Returns the invitation and its link's secret, which is not kept."""
    problems: dict[str, str] = {}
    if not round.is_open:
        raise ValidationError(_("This round is closed."), code="closed")
    if stakeholder.client_id != round.engagement.client_id:
        problems["stakeholder"] = _("Invite the engagement's client's own stakeholders.")
    elif not stakeholder.email:
        problems["stakeholder"] = _("Add the stakeholder's e-mail before inviting them.")
    if language not in languages.codes():
        problems["language"] = _("Choose one of the product's languages.")
    if problems:
        raise ValidationError(problems)
    nonce, secret, digest = _new_link()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                round=round,
                stakeholder=stakeholder,
                language=language,
                nonce=nonce,
                token_digest=digest,
                invited_by=by,
                expires_at=round_ends_at(round),
            )
            invitations_issued.send(Invitation, invitations=[invitation], reminder=False)
    except IntegrityError:
        raise ValidationError(
            {"stakeholder": _("This stakeholder is already invited: resend the link instead.")}
        ) from None
    return invitation, secret


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by: User, language: str | None = None) -> str:
    """A new link for the invitation, e-mailed again (the old one stops working), in
    ``language`` if given; a revoked invitation is restored. Returns the new secret."""
    if not invitation.round.is_open:
        raise ValidationError(_("This round is closed."), code="closed")
    if not invitation.stakeholder.email:
        raise ValidationError(
            {"stakeholder": _("Add the stakeholder's e-mail before inviting them.")}
        )
    if language is not None:
        if language not in languages.codes():
            raise ValidationError({"language": _("Choose one of the product's languages.")})
        invitation.language = language
    invitation.nonce, secret, invitation.token_digest = _new_link()
    invitation.revoked_at = None
    invitation.save(update_fields=["nonce", "token_digest", "revoked_at", "language"])
    invitations_issued.send(Invitation, invitations=[invitation], reminder=False)
    return secret


def invitation_revoke(*, invitation: Invitation, by: User) -> Invitation:
    """The link stops working at once; the answers given stay."""
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def invitations_due_reminder(*, now: datetime) -> Any:
    """Links still waiting for an answer whose round closes within
    ``CLIENT_SURVEY_REMINDER_DAYS``, reminded once, and not in the day they were sent."""
    return Invitation.objects.filter(
        reminded_at__isnull=True,
        revoked_at__isnull=True,
        finished_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=settings.CLIENT_SURVEY_REMINDER_DAYS),
        created_at__lte=now - timedelta(days=1),
        round__closed_at__isnull=True,
    )


@transaction.atomic
def invitations_remind(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Remind, once, each respondent who has not said they are done that the round
    closes soon (the e-mail goes out through the notification machinery). Returns how
    many were reminded."""
    moment = now or timezone.now()
    rows = list(
        invitations_due_reminder(now=moment)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("expires_at", "id")[:batch_size]
    )
    if not rows:
        return 0
    Invitation.objects.filter(pk__in=[row.pk for row in rows]).update(reminded_at=moment)
    for row in rows:
        row.reminded_at = moment
    invitations_issued.send(Invitation, invitations=rows, reminder=True)
    return len(rows)


def invitation_for_link(secret: str) -> Invitation | None:
    """The invitation a link opens, or None — for a wrong, expired or revoked link, or a
    closed round alike: the page answers the same for all of them."""
    if not secret or len(secret) > 100:
        return None
    invitation = (
        Invitation.objects.select_related("round__engagement__client", "stakeholder")
        .filter(token_digest=link_digest(secret))
        .first()
    )
    if (
        invitation is None
        or invitation.revoked_at is not None
        or invitation.expires_at <= timezone.now()
        or not invitation.round.is_open
    ):
        return None
    return invitation


@transaction.atomic
def invitation_finish(*, invitation: Invitation) -> Invitation:
    """The respondent says they are done (they may still correct until the round
    closes); the first time, integrations hear of it (``client_response.received``)."""
    if invitation.finished_at is None:
        invitation.finished_at = timezone.now()
        invitation.save(update_fields=["finished_at"])
        event_record("client_response.received", response_data(invitation))
        round_changed.send(Round, round=invitation.round)
    return invitation


def response_data(invitation: Invitation) -> dict[str, Any]:
    """The ``client_response.received`` event's data (webhooks.events): no name or
    e-mail of the respondent, only the stakeholder's id."""
    engagement = invitation.round.engagement
    return {
        "round": invitation.round_id,
        "invitation": invitation.pk,
        "stakeholder": invitation.stakeholder_id,
        "engagement": engagement.pk,
        "client": engagement.client_id,
        "language": invitation.language,
        "answered": ClientAnswer.objects.filter(invitation=invitation).count(),
        "questions": len(client_questions(invitation.round.version)),
        "finished_at": invitation.finished_at,
        "url": site_url(page_path(engagement)),
    }


# --- Answers ----------------------------------------------------------------------------


@dataclass
class StaleClientAnswer(Exception):
    """The answer changed since the respondent read it (another tab); nothing was saved."""

    current: ClientAnswer | None


@transaction.atomic
def client_answer_save(
    *, invitation: Invitation, question_id: Any, value: Any, revision: int | None
) -> ClientAnswer:
    """Save one answer of the respondent: a level 1–5, or None (not sure). ``revision``
    is the one they last read (None or 0 for a question not answered yet). The invitation
    is locked and checked again (a revoke, a close or the expiry may have come since its
    link was opened): a link that no longer opens it writes nothing."""
    usable = (
        Invitation.objects.select_for_update(of=("self",))
        .filter(
            pk=invitation.pk,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            round__closed_at__isnull=True,
        )
        .exists()
    )
    if not usable:
        raise ValidationError(_("This link no longer opens the survey."), code="closed")
    question = next(
        (q for q in client_questions(invitation.round.version) if q.pk == question_id), None
    )
    if question is None:
        raise ValidationError({"question": _("Not a question of this survey.")})
    if value is not None and (isinstance(value, bool) or value not in range(1, 6)):
        raise ValidationError({"value": _("Choose a level from 1 to 5.")})
    if not revision:
        try:
            with transaction.atomic():
                return ClientAnswer.objects.create(
                    invitation=invitation, question=question, value=value
                )
        except IntegrityError:
            raise StaleClientAnswer(_current(invitation, question)) from None
    changed = ClientAnswer.objects.filter(
        invitation=invitation, question=question, revision=revision
    ).update(value=value, revision=revision + 1, updated_at=timezone.now())
    if not changed:
        raise StaleClientAnswer(_current(invitation, question))
    return ClientAnswer.objects.get(invitation=invitation, question=question)


def _current(invitation: Invitation, question: Question) -> ClientAnswer | None:
    return ClientAnswer.objects.filter(invitation=invitation, question=question).first()
