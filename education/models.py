"""Education plans: playbooks, the actions they produce, and the notifications that chase them.

A *playbook* is a set of rules that map an assessment result (a weak dimension, a
defensiveness band, a quadrant, the engagement's life-cycle phase) to *action templates*.
When an assessment is submitted its engagement gets an *education plan*: one
:class:`EducationAction` per matched template, owned by the client's account manager.

Timed work (reminders, overdue marking, escalation, recurrences) is driven by one column,
``EducationAction.next_check_at``: the next moment something must happen to the action.
A single dispatcher scans that index, so there is never one beat entry per action.
Notifications are an outbox: written in the same transaction as the change that causes
them, delivered later by Celery, each with an idempotency key that makes a second write or
a second delivery harmless.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments.i18n import localized

TEXT_MAX_LENGTH = 5000


class ActionType(models.TextChoices):
    """The kinds of education a supplier leads, across the client's life cycle."""

    WORKSHOP = "workshop", _("Workshop")
    ONBOARDING_SESSION = "onboarding_session", _("Onboarding session")
    PROCESS_WALKTHROUGH = "process_walkthrough", _("Process walkthrough")
    SITE_VISIT = "site_visit", _("Site visit")
    BUSINESS_REVIEW = "business_review", _("Business review")
    VOC_REPORT = "voc_report", _("Voice-of-customer report")
    ALIGNMENT_MEETING = "alignment_meeting", _("Alignment meeting")
    TRAINING_MATERIAL = "training_material", _("Training material")
    ORIENTING_CLOSE = "orienting_close", _("Orienting close")
    OTHER = "other", _("Other")


class RuleKind(models.TextChoices):
    WEAK_DIMENSION = "weak_dimension", _("Weak dimension")
    DEFENSIVENESS_BAND = "defensiveness_band", _("Defensiveness band")
    QUADRANT = "quadrant", _("Quadrant")
    PHASE = "phase", _("Life-cycle phase")
    PERCEPTION_GAP = "perception_gap", _("Perception gap")


class Playbook(models.Model):
    """Rules that turn a result into education actions; directors tune them.

    A playbook serves the questionnaire it names (its dimension codes are that
    questionnaire's); the default playbook ships with the default questionnaire.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.JSONField(_("name"), help_text=_("In English, Portuguese and Spanish."))
    description = models.JSONField(_("description"), default=dict, blank=True)
    questionnaire = models.ForeignKey(
        "assessments.Questionnaire",
        on_delete=models.PROTECT,
        related_name="playbooks",
        verbose_name=_("questionnaire"),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("An inactive playbook produces no plans."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["code"]
        constraints = [
            # Which playbook a submitted assessment uses must be unambiguous.
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=models.Q(is_active=True),
                name="one_active_playbook_per_questionnaire",
            )
        ]

    def __str__(self) -> str:
        return localized(self.name) or self.code


class Recurrence(models.TextChoices):
    ONCE = "once", _("Once")
    WEEKLY = "weekly", _("Every N weeks until the next assessment")


class ActionTemplate(models.Model):
    """What an action looks like before it is planned: type, texts, timing, audience."""

    playbook = models.ForeignKey(
        Playbook,
        on_delete=models.CASCADE,
        related_name="templates",
        verbose_name=_("playbook"),
        db_index=False,  # action_template_code leads with it
    )
    code = models.SlugField(_("code"), max_length=60)
    action_type = models.CharField(_("type"), max_length=30, choices=ActionType.choices)
    title = models.JSONField(_("title"), help_text=_("In English, Portuguese and Spanish."))
    description = models.JSONField(_("description"), default=dict, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_("Days from the assessment to the action's due date."),
    )
    recurrence = models.CharField(
        _("recurrence"), max_length=10, choices=Recurrence.choices, default=Recurrence.ONCE
    )
    every_weeks = models.PositiveSmallIntegerField(
        _("every N weeks"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )
    audience = models.JSONField(
        _("audience"),
        default=list,
        blank=True,
        help_text=_("Stakeholder roles the action is for, e.g. “Operations”, “Procurement”."),
    )
    target_dimensions = models.JSONField(
        _("target dimensions"),
        default=list,
        blank=True,
        help_text=_("Dimension codes the action means to move (its uplift is measured on them)."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("action template")
        verbose_name_plural = _("action templates")
        ordering = ["playbook", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "code"], name="action_template_code"),
            models.CheckConstraint(
                condition=models.Q(recurrence="once", every_weeks__isnull=True)
                | models.Q(recurrence="weekly", every_weeks__gte=1),
                name="action_template_recurrence",
            ),
        ]

    def __str__(self) -> str:
        return localized(self.title) or self.code


class PlaybookRule(models.Model):
    """When a result matches, the template is planned.

    Each kind reads its own fields: a weak dimension is ``dimension_code`` scoring below
    ``threshold``; a defensiveness band is ``min_defensiveness`` ≤ index < ``max_defensiveness``;
    a quadrant is ``quadrant``; a phase is ``phase``; a perception gap is the client's view
    of ``dimension_code`` (any dimension when blank) ``gap_levels`` levels or more above
    ours (below, when negative). ``phases``, when not empty, limits any rule to engagements
    in those phases.
    """

    playbook = models.ForeignKey(
        Playbook, on_delete=models.CASCADE, related_name="rules", verbose_name=_("playbook")
    )
    template = models.ForeignKey(
        ActionTemplate, on_delete=models.CASCADE, related_name="rules", verbose_name=_("template")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=RuleKind.choices)
    dimension_code = models.SlugField(_("dimension code"), max_length=60, blank=True)
    threshold = models.FloatField(
        _("threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("A dimension scoring below this is weak."),
    )
    min_defensiveness = models.FloatField(
        _("from defensiveness"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    max_defensiveness = models.FloatField(
        _("below defensiveness"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(101)],
    )
    quadrant = models.CharField(_("quadrant"), max_length=30, blank=True)
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    gap_levels = models.FloatField(
        _("gap in levels"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-4), MaxValueValidator(4)],
        help_text=_(
            "The client's view minus ours: 2 fires when the client rates the dimension two "
            "levels or more above us; −1 when one level or more below."
        ),
    )
    phases = models.JSONField(
        _("only in phases"), default=list, blank=True, help_text=_("Empty: every phase.")
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("playbook rule")
        verbose_name_plural = _("playbook rules")
        ordering = ["playbook", "position", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.template}"


class PlanStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    BUILT = "built", _("Built")


class EducationPlan(models.Model):
    """The plan an assessment produced for its engagement.

    Written as *pending* in the same transaction as the submit (so a lost Celery message
    cannot lose it: the dispatcher sweeps pending plans), then built by a task. Building is
    idempotent — actions are unique per plan and template — so a retried or repeated task
    never duplicates them.
    """

    assessment = models.OneToOneField(
        "assessments.Assessment",
        on_delete=models.CASCADE,
        related_name="education_plan",
        verbose_name=_("assessment"),
    )
    engagement = models.ForeignKey(
        "clients.Engagement",
        on_delete=models.CASCADE,
        related_name="education_plans",
        verbose_name=_("engagement"),
    )
    playbook = models.ForeignKey(
        Playbook,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plans",
        verbose_name=_("playbook"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.PENDING
    )
    requested_at = models.DateTimeField(_("requested at"))
    # When the dispatcher builds the plan if no worker has: a grace period after the
    # request (the Celery message normally wins), or at once when the message could not
    # be published (the broker was away), so the first dispatcher tick after the broker
    # returns catches up.
    sweep_at = models.DateTimeField(_("built automatically after"))
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)
    builds = models.PositiveIntegerField(_("times built"), default=0)
    # Builds that raised (each rolled back; the plan stays pending and is retried with
    # backoff): counted for the metrics, the last error kept for whoever looks.
    build_failures = models.PositiveIntegerField(_("failed builds"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("education plan")
        verbose_name_plural = _("education plans")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["sweep_at"],
                condition=models.Q(status="pending"),
                name="plan_pending_sweep",
            )
        ]

    def __str__(self) -> str:
        return f"{self.engagement} · {self.get_status_display()}"


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


def _text_field(verbose_name: Any) -> models.TextField:
    return models.TextField(
        verbose_name, blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)]
    )


class EducationAction(models.Model):
    """One piece of supplier-led education for an engagement: who, for whom, by when.

    Generated from a template (``title``/``description`` blank means "the template's, in
    the reader's language") or added by hand. Planned → done (with an outcome) or skipped
    (with a reason). An action past its due date is *overdue* (``overdue_at``) and, after
    a grace period, escalated to the directors (``escalated_at``) — each exactly once.
    Recurring actions spawn their next occurrence on their due date until the engagement
    is assessed again.
    """

    engagement = models.ForeignKey(
        "clients.Engagement",
        on_delete=models.CASCADE,
        related_name="education_actions",
        verbose_name=_("engagement"),
        db_index=False,  # action_engagement_status leads with it
    )
    # Denormalised from the engagement: every list filters and scopes by client.
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="education_actions",
        verbose_name=_("client"),
        db_index=False,  # action_client_due leads with it
    )
    plan = models.ForeignKey(
        EducationPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("plan"),
    )
    template = models.ForeignKey(
        ActionTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("template"),
    )
    source_assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="education_actions",
        verbose_name=_("produced by assessment"),
    )
    occurrence = models.PositiveIntegerField(_("occurrence"), default=1)
    action_type = models.CharField(_("type"), max_length=30, choices=ActionType.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)
    description = _text_field(_("description"))
    # What in the result asked for it: [{"kind": "weak_dimension", "dimension": …,
    # "score": …}, …], rendered in the reader's language.
    reasons = models.JSONField(_("why"), default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="education_actions",
        verbose_name=_("owner"),
        db_index=False,  # action_owner_agenda leads with it
    )
    audience = models.JSONField(_("audience"), default=list, blank=True)
    target_dimensions = models.JSONField(_("target dimensions"), default=list, blank=True)
    due_date = models.DateField(_("due date"))
    every_weeks = models.PositiveSmallIntegerField(
        _("repeats every N weeks"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    outcome = _text_field(_("outcome"))
    skip_reason = models.CharField(_("why skipped"), max_length=500, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    # What the dispatcher has done, each at most once; and when it must look again.
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    next_spawned = models.BooleanField(_("next occurrence created"), default=False)
    recurrence_closed = models.BooleanField(_("recurrence ended"), default=False)
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True)
    # Uplift, measured once the engagement is assessed again after the action is done.
    uplift_assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uplift measured by"),
    )
    uplift = models.FloatField(_("uplift"), null=True, blank=True)
    maturity_delta = models.FloatField(_("maturity change"), null=True, blank=True)
    defensiveness_delta = models.FloatField(_("defensiveness change"), null=True, blank=True)
    dimension_deltas = models.JSONField(_("change per dimension"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("education action")
        verbose_name_plural = _("education actions")
        ordering = ["due_date", "id"]
        constraints = [
            # Plan building is idempotent: one action per plan, template and occurrence.
            models.UniqueConstraint(
                fields=["plan", "template", "occurrence"],
                condition=models.Q(plan__isnull=False, template__isnull=False),
                name="one_action_per_plan_template_occurrence",
            ),
        ]
        indexes = [
            # The due index the dispatcher scans, in the claim's own order (ties by id).
            models.Index(
                fields=["next_check_at", "id"],
                condition=models.Q(next_check_at__isnull=False),
                name="action_due_index",
            ),
            models.Index(fields=["owner", "status", "due_date"], name="action_owner_agenda"),
            models.Index(fields=["engagement", "status"], name="action_engagement_status"),
            models.Index(fields=["client", "due_date"], name="action_client_due"),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        if self.template_id and self.template is not None:
            return localized(self.template.title)
        return self.get_action_type_display()

    @property
    def display_description(self) -> str:
        if self.description:
            return self.description
        if self.template_id and self.template is not None:
            return localized(self.template.description)
        return ""

    @property
    def is_overdue(self) -> bool:
        return self.status == ActionStatus.PLANNED and self.overdue_at is not None

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.PLANNED


class ReassessmentSchedule(models.Model):
    """When an engagement is due to be assessed again, by the cadence of its last level.

    Upserted when a plan is built; the dispatcher prompts the owner once per assessment
    (``prompted_at``) when ``due_at`` has passed.
    """

    engagement = models.OneToOneField(
        "clients.Engagement",
        on_delete=models.CASCADE,
        related_name="reassessment",
        verbose_name=_("engagement"),
    )
    last_assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("last assessment"),
    )
    due_at = models.DateTimeField(_("due at"))
    prompted_at = models.DateTimeField(_("prompted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reassessment schedule")
        verbose_name_plural = _("reassessment schedules")
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(prompted_at__isnull=True),
                name="reassessment_due_index",
            )
        ]

    def __str__(self) -> str:
        return f"{self.engagement} · {self.due_at:%Y-%m-%d}"


class NotificationKind(models.TextChoices):
    PLAN_READY = "plan_ready", _("Education plan ready")
    ASSIGNED = "assigned", _("Action assigned to you")
    REMINDER = "reminder", _("Action due soon")
    OVERDUE = "overdue", _("Action overdue")
    ESCALATION = "escalation", _("Overdue action escalated")
    REASSESSMENT = "reassessment", _("Reassessment due")
    DIGEST = "digest", _("Weekly digest")
    WEBHOOK_DISABLED = "webhook_disabled", _("Webhook endpoint disabled")
    RATING_REQUESTED = "rating_requested", _("Asked to rate an engagement")
    # To a client's stakeholder (not a user): their link to answer a round, by e-mail.
    CLIENT_INVITATION = "client_invitation", _("Invitation to give the client's view")
    CLIENT_REMINDER = "client_reminder", _("Reminder to give the client's view")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up")


class Notification(models.Model):
    """Something a user should know — the outbox.

    Written in the same transaction as the change that causes it, with an
    ``idempotency_key`` that is unique, so writing it twice is a no-op. Being written is
    its in-app delivery (the notification centre reads these rows); every other channel
    (``education/channels/``) gets a :class:`Delivery` row written with it, which the relay
    works through with retries and backoff. Texts are rendered when shown (in the reader's
    language), from ``kind`` and ``params``.

    Its recipient is a user, or — for the client's voice — a stakeholder reached through
    their ``invitation`` (by e-mail only; the row holds no copy of their address, and
    erasing the stakeholder takes it with the invitation).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_index=False,  # notification_inbox leads with it
    )
    invitation = models.ForeignKey(
        "voice.Invitation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("invitation"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    action = models.ForeignKey(
        EducationAction,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("action"),
    )
    params = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False, invitation__isnull=True)
                | models.Q(recipient__isnull=True, invitation__isnull=False),
                name="notification_to_a_user_or_an_invitation",
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_inbox",
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient or self.invitation}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class Delivery(models.Model):
    """One notification through one relayed channel: its own state, attempts and errors.

    ``channel`` names an entry of ``education.channels.CHANNELS`` (not a database choice,
    so a new channel needs no migration). The pair is unique: a notification written twice
    is delivered once per channel. The relay claims pending rows in ``next_attempt_at``
    order from the partial ``delivery_outbox`` index.
    """

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
        db_index=False,  # delivery_once_per_channel leads with it
    )
    channel = models.CharField(_("channel"), max_length=20)
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["notification_id", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(state="pending"),
                name="delivery_outbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} · {self.get_state_display()}"
