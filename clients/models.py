from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Role

# Long enough for a real meeting record, short enough that a pasted file is refused with a
# message instead of bloating every page that shows it.
NOTE_MAX_LENGTH = 20_000


DUPLICATE_NAME_MESSAGE = _("A client with this name already exists.")


class Segment(models.TextChoices):
    TELECOM = "telecom", _("Telecommunications")
    BANKING = "banking", _("Banking and financial services")
    INSURANCE = "insurance", _("Insurance")
    RETAIL = "retail", _("Retail and e-commerce")
    UTILITIES = "utilities", _("Utilities and energy")
    HEALTHCARE = "healthcare", _("Healthcare")
    TRAVEL = "travel", _("Travel and transport")
    PUBLIC = "public", _("Public sector")
    EDUCATION = "education", _("Education")
    OTHER = "other", _("Other")


class Size(models.TextChoices):
    SMALL = "small", _("Small")
    MEDIUM = "medium", _("Medium")
    LARGE = "large", _("Large")
    ENTERPRISE = "enterprise", _("Enterprise")


class Country(models.TextChoices):
    BRAZIL = "BR", _("Brazil")
    ARGENTINA = "AR", _("Argentina")
    CHILE = "CL", _("Chile")
    COLOMBIA = "CO", _("Colombia")
    MEXICO = "MX", _("Mexico")
    PERU = "PE", _("Peru")
    URUGUAY = "UY", _("Uruguay")
    PARAGUAY = "PY", _("Paraguay")
    ECUADOR = "EC", _("Ecuador")
    SPAIN = "ES", _("Spain")
    PORTUGAL = "PT", _("Portugal")
    UNITED_STATES = "US", _("United States")
    OTHER = "XX", _("Other")


class ProcessType(models.TextChoices):
    """The kind of process a client outsources to us."""

    INBOUND_SERVICE = "inbound_service", _("Inbound customer service")
    OUTBOUND_SALES = "outbound_sales", _("Outbound sales")
    COLLECTIONS = "collections", _("Collections")
    RETENTION = "retention", _("Retention")
    TECH_SUPPORT = "tech_support", _("Technical support")
    BACK_OFFICE = "back_office", _("Back office")
    DIGITAL_CHANNELS = "digital_channels", _("Digital channels (chat, social)")
    OTHER = "other", _("Other")


class Phase(models.TextChoices):
    """The life cycle of an engagement, from first conversation to orienting close."""

    PROSPECT = "prospect", _("Prospect")
    CONTRACTING = "contracting", _("Contracting")
    TRANSITION = "transition", _("Transition")
    OPERATION = "operation", _("Operation")
    RENEWAL = "renewal", _("Renewal")
    CLOSING = "closing", _("Closing")


class Stance(models.TextChoices):
    SPONSOR = "sponsor", _("Sponsor")
    NEUTRAL = "neutral", _("Neutral")
    SKEPTIC = "skeptic", _("Skeptic")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    MIXED = "mixed", _("Mixed")
    FAILURE = "failure", _("Failure")


class WentWrong(models.TextChoices):
    """What went wrong in an earlier outsourcing relationship: the causes we must treat."""

    TRUST = "trust", _("Trust")
    MONEY = "money", _("Money and billing")
    FLEXIBILITY = "flexibility", _("Flexibility")
    QUALITY = "quality", _("Service quality")
    COMMUNICATION = "communication", _("Communication")
    COMPLIANCE = "compliance", _("Compliance and data protection")
    STAFF_TURNOVER = "staff_turnover", _("Staff turnover")
    TECHNOLOGY = "technology", _("Technology")
    END_CUSTOMER = "end_customer", _("Ownership of the end customer")


class Legacy(models.TextChoices):
    """What a bad experience left behind that we face today."""

    NONE = "none", _("Nothing lasting")
    CONTRACT_CLAUSE = "contract_clause", _("A restrictive contract clause")
    DEFENSIVE_BEHAVIOUR = "defensive_behaviour", _("A defensive behaviour")
    BOTH = "both", _("Both a clause and a behaviour")


class EntryKind(models.TextChoices):
    NOTE = "note", _("Note")
    CONFLICT = "conflict", _("Conflict")
    ESCALATION = "escalation", _("Escalation")
    POSITION_TAKEN = "position_taken", _("Position taken")


class Relevance(models.TextChoices):
    # A context of its own: in Portuguese a relevance is "média", a size "médio".
    LOW = "low", pgettext_lazy("relevance", "Low")
    MEDIUM = "medium", pgettext_lazy("relevance", "Medium")
    HIGH = "high", pgettext_lazy("relevance", "High")


def note_field(verbose_name: Any) -> models.TextField:
    return models.TextField(
        verbose_name, blank=True, validators=[MaxLengthValidator(NOTE_MAX_LENGTH)]
    )


class Client(models.Model):
    """An organisation that outsources one or more processes to us.

    Owned by one account manager; team members share access so the whole team sees
    what is known about the client (familiarity creates alignment).
    """

    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=250, blank=True)
    tax_id = models.CharField(
        _("tax id"), max_length=40, blank=True, help_text=_("CNPJ, CUIT, RUT, RFC…")
    )
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices)
    size = models.CharField(_("size"), max_length=20, choices=Size.choices)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_clients",
        verbose_name=_("owner"),
        db_index=False,  # client_owner_active leads with it
    )
    team_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="team_clients",
        verbose_name=_("team members"),
    )
    notes = note_field(_("notes"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="client_name_unique_ci",
                violation_error_message=DUPLICATE_NAME_MESSAGE,
            )
        ]
        indexes = [models.Index(fields=["owner", "is_active"], name="client_owner_active")]

    def __str__(self) -> str:
        return self.name

    def validate_constraints(self, exclude: Any = None) -> None:
        # The case-insensitive unique name is an expression constraint, which Django reports
        # as a non-field error; people and API clients expect it on the name field.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            messages = error.message_dict
            duplicate = str(DUPLICATE_NAME_MESSAGE)
            if duplicate in messages.get(NON_FIELD_ERRORS, []):
                messages[NON_FIELD_ERRORS].remove(duplicate)
                if not messages[NON_FIELD_ERRORS]:
                    del messages[NON_FIELD_ERRORS]
                messages.setdefault("name", []).append(duplicate)
            raise ValidationError(messages) from None

    def clean(self) -> None:
        owner = self.owner if self.owner_id else None
        if owner is not None and (not owner.is_active or owner.role != Role.ACCOUNT_MANAGER):
            raise ValidationError({"owner": _("The owner must be an active account manager.")})


class Engagement(models.Model):
    """One outsourced process with a client, and where it stands in its life cycle."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="engagements", verbose_name=_("client")
    )
    process_type = models.CharField(_("process type"), max_length=30, choices=ProcessType.choices)
    description = note_field(_("description"))
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    phase = models.CharField(
        _("life-cycle phase"), max_length=20, choices=Phase.choices, default=Phase.PROSPECT
    )
    phase_changed_at = models.DateTimeField(_("phase changed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["client__name", "process_type", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="engagement_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.get_process_type_display()}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date cannot be before the start date.")})


class EngagementPhaseChange(models.Model):
    """One step of an engagement's life cycle: the phase history."""

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        related_name="phase_changes",
        verbose_name=_("engagement"),
    )
    from_phase = models.CharField(_("from phase"), max_length=20, choices=Phase.choices, blank=True)
    to_phase = models.CharField(_("to phase"), max_length=20, choices=Phase.choices)
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("phase change")
        verbose_name_plural = _("phase changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.engagement}: {self.from_phase or '∅'} → {self.to_phase}"


class Stakeholder(models.Model):
    """A person at the client whose influence and stance shape the relationship."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="stakeholders", verbose_name=_("client")
    )
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    influence = models.PositiveSmallIntegerField(
        _("influence"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (little) to 5 (decides)."),
    )
    stance = models.CharField(
        _("stance"), max_length=20, choices=Stance.choices, default=Stance.NEUTRAL
    )
    notes = note_field(_("notes"))

    class Meta:
        verbose_name = _("stakeholder")
        verbose_name_plural = _("stakeholders")
        ordering = ["-influence", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(influence__gte=1, influence__lte=5),
                name="stakeholder_influence_1_5",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PastExperience(models.Model):
    """An earlier outsourcing relationship of the client: the evidence behind defensiveness.

    Recording what went wrong and what it left behind lets the team treat causes (a clause
    written after a supplier overbilled) rather than symptoms (a client who audits every
    invoice).
    """

    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="past_experiences",
        verbose_name=_("client"),
    )
    supplier = models.CharField(_("previous supplier"), max_length=200)
    process_type = models.CharField(_("process type"), max_length=30, choices=ProcessType.choices)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    went_wrong = models.JSONField(
        _("what went wrong"),
        default=list,
        blank=True,
        help_text=_("Tags: trust, money, flexibility, quality, communication…"),
    )
    severity = models.PositiveSmallIntegerField(
        _("severity"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (minor) to 5 (traumatic)."),
    )
    legacy = models.CharField(
        _("what it left behind"), max_length=30, choices=Legacy.choices, default=Legacy.NONE
    )
    legacy_description = note_field(_("legacy in detail"))
    notes = note_field(_("notes"))

    class Meta:
        verbose_name = _("past experience")
        verbose_name_plural = _("past experiences")
        ordering = ["-ended_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(severity__gte=1, severity__lte=5),
                name="past_experience_severity_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(started_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="past_experience_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.supplier}"

    @property
    def went_wrong_labels(self) -> list[str]:
        labels = dict(WentWrong.choices)
        return [str(labels.get(tag, tag)) for tag in self.went_wrong or []]

    def clean(self) -> None:
        errors: dict[str, object] = {}
        if self.started_on and self.ended_on and self.ended_on < self.started_on:
            errors["ended_on"] = _("The end date cannot be before the start date.")
        if not isinstance(self.went_wrong, list) or any(
            tag not in WentWrong.values for tag in self.went_wrong
        ):
            errors["went_wrong"] = _("Choose tags from the list: %(tags)s.") % {
                "tags": ", ".join(WentWrong.values)
            }
        if errors:
            raise ValidationError(errors)


class TimelineEntry(models.Model):
    """Something that happened with a client, visible to the whole team.

    A *position taken* records that we told the client it was wrong, with the relevance
    the matter deserved: no more, no less.
    """

    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="timeline",
        verbose_name=_("client"),
        db_index=False,  # timeline_client_date leads with it
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="timeline",
        verbose_name=_("engagement"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    relevance = models.CharField(
        _("relevance"), max_length=10, choices=Relevance.choices, default=Relevance.MEDIUM
    )
    occurred_on = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    body = note_field(_("details"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="timeline_entries",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["client", "-occurred_on"], name="timeline_client_date")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        engagement = self.engagement if self.engagement_id else None
        if engagement is not None and engagement.client_id != self.client_id:
            raise ValidationError({"engagement": _("The engagement belongs to another client.")})


class AuditAction(models.TextChoices):
    CREATED = "created", _("created")
    UPDATED = "updated", _("updated")
    ARCHIVED = "archived", _("archived")
    RESTORED = "restored", _("restored")
    PHASE_CHANGED = "phase_changed", _("changed phase")
    DELETED = "deleted", _("deleted")
    IMPORTED = "imported", _("imported")


class AuditEvent(models.Model):
    """Who changed what and when on a client or one of its engagements.

    Written by the services in the same transaction as the change, so the history cannot
    miss a change that was saved. ``changes`` maps a field name to ``[old, new]`` as shown
    to people (choice labels are resolved when displayed, not stored).
    """

    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="audit_events",
        verbose_name=_("client"),
        db_index=False,  # audit_client_at leads with it
    )
    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("engagement"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    subject = models.CharField(_("subject"), max_length=250)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "-at"], name="audit_client_at")]

    def __str__(self) -> str:
        return f"{self.subject}: {self.action}"
