"""The client's own voice (docs/client-voice.md): rounds of views on an engagement, the
invitations its client's stakeholders answer through, and their answers.

A stakeholder is not a user: an invitation is reached by a personal link whose secret is
stored only as its digest, and it holds no copy of the stakeholder's name or e-mail (the
stakeholder row does, and erasing it takes the invitation with it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment, Question, QuestionnaireVersion
from clients.models import Engagement, Stakeholder


class Round(models.Model):
    """One collection of views on an engagement, open until it closes."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("engagement")
    )
    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("questionnaire version"),
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closes_on = models.DateField(_("closes on"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The supplier's view of the round, when several raters were reconciled into it: a
    # submitted assessment like any other (scored, reviewed, trended).
    reconciled = models.OneToOneField(
        Assessment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reconciled_round",
        verbose_name=_("reconciled assessment"),
    )

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_round_per_engagement",
            )
        ]

    def __str__(self) -> str:
        return f"{self.engagement} · {self.opened_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Invitation(models.Model):
    """A stakeholder's personal link to answer a round."""

    round = models.ForeignKey(
        Round,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("round"),
        db_index=False,  # one_invitation_per_stakeholder_and_round leads with it
    )
    stakeholder = models.ForeignKey(
        Stakeholder,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("stakeholder"),
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    # The link's secret is an HMAC of this nonce under the SECRET_KEY (voice.links), so an
    # e-mail can be written again from the row, but a copy of the database opens nothing;
    # a new nonce (resending) stops the old link.
    nonce = models.CharField(max_length=32, editable=False)
    # The SHA-256 of the link's secret: what a link is looked up by.
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "stakeholder"], name="one_invitation_per_stakeholder_and_round"
            )
        ]
        indexes = [
            # The dispatcher's reminder pass: links still waiting for an answer, by expiry.
            models.Index(
                fields=["expires_at"],
                condition=models.Q(
                    reminded_at__isnull=True, revoked_at__isnull=True, finished_at__isnull=True
                ),
                name="invitation_awaiting_reminder",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stakeholder} · {self.round}"


class ClientAnswer(models.Model):
    """A respondent's level (1–5) on a question asked of the client; None: not sure."""

    invitation = models.ForeignKey(
        Invitation,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("invitation"),
        db_index=False,  # one_client_answer_per_question leads with it
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="+", verbose_name=_("question")
    )
    value = models.PositiveSmallIntegerField(_("level"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("client answer")
        verbose_name_plural = _("client answers")
        ordering = ["invitation", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "question"], name="one_client_answer_per_question"
            ),
            models.CheckConstraint(
                condition=models.Q(value__isnull=True) | models.Q(value__gte=1, value__lte=5),
                name="client_answer_level_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"


class Rater(models.Model):
    """One of the supplier's people rating the engagement in a round, on a sheet of their
    own (an assessment only they see, handed in rather than submitted)."""

    round = models.ForeignKey(
        Round,
        on_delete=models.CASCADE,
        related_name="raters",
        verbose_name=_("round"),
        db_index=False,  # one_sheet_per_rater_and_round leads with it
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rater"),
    )
    sheet = models.OneToOneField(
        Assessment, on_delete=models.CASCADE, related_name="rater", verbose_name=_("sheet")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("rater")
        verbose_name_plural = _("raters")
        ordering = ["round", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="one_sheet_per_rater_and_round")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.round}"


class Decision(models.Model):
    """The answer a round's owner agreed for a question its raters answered differently,
    and why: what the reconciled assessment takes."""

    round = models.ForeignKey(
        Round,
        on_delete=models.CASCADE,
        related_name="decisions",
        verbose_name=_("round"),
        db_index=False,  # one_decision_per_question_and_round leads with it
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="+", verbose_name=_("question")
    )
    value = models.JSONField(_("agreed answer"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    reason = models.TextField(_("why"), max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("reconciliation decision")
        verbose_name_plural = _("reconciliation decisions")
        ordering = ["round", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "question"], name="one_decision_per_question_and_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"
