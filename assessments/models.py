"""Questionnaires and their versions.

A questionnaire (e.g. "BPO client maturity and defensiveness") has numbered versions. A
version is a draft while directors edit it, then published — and from then on immutable,
because assessments are bound to the exact version they used — and finally retired when a
newer version is published. Editing a published version means copying it to a new draft.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessments import question_types
from assessments.i18n import localized


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class DimensionKind(models.TextChoices):
    MATURITY = "maturity", _("Maturity")
    DEFENSIVENESS = "defensiveness", _("Defensiveness")


class PublishedVersionIsImmutable(ValidationError):
    """Raised when anything tries to change a published or retired version."""

    def __init__(self) -> None:
        super().__init__(
            _("A published version cannot be changed; copy it to a new draft instead."),
            code="immutable",
        )


class Questionnaire(models.Model):
    """A questionnaire family: its versions share a code and a purpose."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.JSONField(_("name"), help_text=_("In English, Portuguese and Spanish."))
    description = models.JSONField(_("description"), default=dict, blank=True)
    is_default = models.BooleanField(
        _("default"),
        default=False,
        help_text=_("The questionnaire new assessments use unless told otherwise."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_questionnaire",
            )
        ]

    def __str__(self) -> str:
        return localized(self.name) or self.code

    def current_version(self) -> QuestionnaireVersion | None:
        return self.versions.filter(status=VersionStatus.PUBLISHED).first()


class QuestionnaireVersion(models.Model):
    """One numbered version of a questionnaire: draft → published (immutable) → retired."""

    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("questionnaire"),
        db_index=False,  # questionnaire_version_number_unique leads with it
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    notes = models.JSONField(_("notes"), default=dict, blank=True)
    based_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("based on"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="questionnaire_version_number_unique"
            ),
            # The "current" version is unambiguous: at most one published per questionnaire.
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=models.Q(status="published"),
                name="one_published_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} v{self.number} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def guard_editable(self) -> None:
        if not self.is_editable:
            raise PublishedVersionIsImmutable()


class _VersionContent(models.Model):
    """Rows that make up a version's structure: frozen once the version is published.

    The guard sits in save() and delete() so that no path — service, admin, shell or API —
    can change what published assessments were scored against. (Bulk queryset updates
    bypass it; the services never use them on version content.)
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.owning_version().guard_editable()
        if self.pk is not None:
            # A name, not a literal: the type checker cannot see the concrete model's fields
            # from this abstract base.
            version_field = "version_id"
            stored = (
                type(self)._default_manager.filter(pk=self.pk).values_list(version_field, flat=True)
            )
            stored_version = stored.first()
            if stored_version is not None and stored_version != self.owning_version().pk:
                # Moving content out of a version would change it behind the guard.
                raise ValidationError(
                    _("Questionnaire content cannot move to another version."), code="moved"
                )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self.owning_version().guard_editable()
        return super().delete(*args, **kwargs)

    def owning_version(self) -> QuestionnaireVersion:
        raise NotImplementedError


class Dimension(_VersionContent):
    """What a group of questions measures: a facet of maturity or of defensiveness."""

    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.CASCADE,
        related_name="dimensions",
        verbose_name=_("version"),
        db_index=False,  # dimension_code_unique leads with it
    )
    code = models.SlugField(_("code"), max_length=60)
    kind = models.CharField(_("kind"), max_length=20, choices=DimensionKind.choices)
    weight = models.FloatField(_("weight"), default=1.0)
    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.JSONField(_("name"))
    description = models.JSONField(_("description"), default=dict, blank=True)

    class Meta:
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="dimension_code_unique"),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0), name="dimension_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return localized(self.name) or self.code

    def owning_version(self) -> QuestionnaireVersion:
        return self.version


class Question(_VersionContent):
    """One question: how it is asked, how it is answered and how the answer scores.

    ``levels`` (anchored scale) is a list of five ``{"value", "label", "description"}``
    whose description says what that level looks like at a client; ``options`` (single
    choice) a list of ``{"code", "score", "label"}`` with scores from 0 to 100;
    ``min_value``/``max_value`` bound a number. Texts are three-language mappings.
    """

    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("version"),
        db_index=False,  # question_code_unique leads with it
    )
    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, related_name="questions", verbose_name=_("dimension")
    )
    code = models.SlugField(_("code"), max_length=60)
    # Choices read from the registry when asked: a new type needs no migration.
    type = models.CharField(_("type"), max_length=10, choices=question_types.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    weight = models.FloatField(_("weight"), default=1.0)
    reverse = models.BooleanField(
        _("reverse-scored"),
        default=False,
        help_text=_("A higher answer means less of what the dimension measures."),
    )
    required = models.BooleanField(_("required"), default=True)
    allow_na = models.BooleanField(_("“not applicable” allowed"), default=False)
    text = models.JSONField(_("question"))
    help = models.JSONField(_("help text"), default=dict, blank=True)
    levels = models.JSONField(_("levels"), default=list, blank=True)
    options = models.JSONField(_("options"), default=list, blank=True)
    min_value = models.FloatField(_("minimum"), null=True, blank=True)
    max_value = models.FloatField(_("maximum"), null=True, blank=True)
    # Asked of the client's own people too (docs/client-voice.md): its wording for them
    # and its levels in their words, {"text": {…}, "levels": [{value, label, description}]};
    # empty when only the supplier answers it.
    client = models.JSONField(_("client wording"), default=dict, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "dimension__position", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="question_code_unique"),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0), name="question_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def owning_version(self) -> QuestionnaireVersion:
        return self.version

    @property
    def spec(self) -> question_types.QuestionType:
        """What this question's type does (parse, check, score, export, template)."""
        return question_types.get(self.type)

    def document(self) -> dict[str, Any]:
        """The question in the questionnaire format (export, and the scoring structure)."""
        document: dict[str, Any] = {
            "code": self.code,
            "type": self.type,
            "weight": self.weight,
            "reverse": self.reverse,
            "required": self.required,
            "allow_na": self.allow_na,
            "text": self.text,
            "help": self.help,
        }
        for key, attribute in self.spec.fields:
            document[key] = getattr(self, attribute)
        if self.client:
            document["client"] = self.client
        return document

    @property
    def asked_of_the_client(self) -> bool:
        return bool(self.client)

    def clean(self) -> None:
        if self.dimension_id and self.version_id and self.dimension.version_id != self.version_id:
            raise ValidationError({"dimension": _("The dimension belongs to another version.")})


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for correction")
    APPROVED = "approved", _("Approved")
    # A rater's sheet given to its round's reconciliation (docs/client-voice.md §3): scored
    # for the rater, never reviewed, trended or planned on — the reconciled assessment is.
    HANDED_IN = "handed_in", _("Handed in for reconciliation")


EDITABLE_STATUSES = (AssessmentStatus.DRAFT, AssessmentStatus.RETURNED)


class Assessment(models.Model):
    """One questionnaire version filled for an engagement by an assessor.

    draft → submitted → approved, or → returned → (corrected) → submitted again. On submit
    the scoring engine's result is stored here and in :class:`DimensionResult` as a
    snapshot — including the evidence it used — so later edits to past experiences or new
    questionnaire versions never change an old result.
    """

    engagement = models.ForeignKey(
        "clients.Engagement",
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("engagement"),
        db_index=False,  # assessment_engagement_time leads with it
    )
    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("questionnaire version"),
        db_index=False,  # assessment_version_status leads with it
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("assessor"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AssessmentStatus.choices,
        default=AssessmentStatus.DRAFT,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    # The result, stored on submit (None before). Denormalised columns serve lists and
    # dashboards; ``result`` keeps the whole snapshot with the explanation.
    maturity_score = models.FloatField(_("maturity score"), null=True, blank=True)
    maturity_level = models.PositiveSmallIntegerField(_("maturity level"), null=True, blank=True)
    defensiveness_index = models.FloatField(_("defensiveness index"), null=True, blank=True)
    questionnaire_defensiveness = models.FloatField(
        _("questionnaire defensiveness"), null=True, blank=True
    )
    quadrant = models.CharField(_("quadrant"), max_length=30, blank=True)
    completeness = models.FloatField(_("completeness"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    # One rater's independent sheet in a round with several raters: seen by that rater
    # alone, handed in (not submitted) to the round's reconciliation.
    # (A database default too: the hand-written INSERTs of a draft and an import leave it.)
    rater_sheet = models.BooleanField(
        _("rater's sheet"), default=False, db_default=False, editable=False
    )

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open draft per engagement and assessor: starting again resumes it.
            models.UniqueConstraint(
                fields=["engagement", "assessor"],
                condition=models.Q(status__in=["draft", "returned"]),
                name="one_open_assessment_per_assessor",
            )
        ]
        indexes = [
            models.Index(fields=["engagement", "-submitted_at"], name="assessment_engagement_time"),
            models.Index(fields=["version", "status"], name="assessment_version_status"),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} · {self.get_status_display()}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class Answer(models.Model):
    """One answer of an assessment, with its evidence note.

    ``revision`` counts the saves of this answer; a save names the revision it started
    from, and one made from an older revision is refused, so two tabs or two people never
    overwrite each other silently.
    """

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("assessment"),
        db_index=False,  # one_answer_per_question leads with it
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    value = models.JSONField(_("value"), null=True, blank=True)
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    na_reason = models.CharField(_("why not applicable"), max_length=500, blank=True)
    note = models.TextField(_("evidence note"), blank=True, max_length=5000)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question"], name="one_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question.code}: {self.value!r}"

    @staticmethod
    def counts(value: Any, not_applicable: bool) -> bool:
        """Whether an answer counts as given (for progress and for submit's check): it
        holds a value, or the question is marked not applicable."""
        return not_applicable or value not in (None, "")


class DimensionResult(models.Model):
    """A dimension's score in a submitted assessment: one row each, for dashboards that
    aggregate by dimension without unpacking JSON."""

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="dimension_results",
        verbose_name=_("assessment"),
        db_index=False,  # one_result_per_dimension leads with it
    )
    dimension = models.ForeignKey(
        Dimension, on_delete=models.PROTECT, related_name="+", verbose_name=_("dimension")
    )
    code = models.SlugField(_("code"), max_length=60)
    kind = models.CharField(_("kind"), max_length=20, choices=DimensionKind.choices)
    score = models.FloatField(_("score"), null=True, blank=True)

    class Meta:
        verbose_name = _("dimension result")
        verbose_name_plural = _("dimension results")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "dimension"], name="one_result_per_dimension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.score}"


class AssessmentTransition(models.Model):
    """Every status change of an assessment: who, when, and the reviewer's comment."""

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        related_name="transitions",
        verbose_name=_("assessment"),
    )
    from_status = models.CharField(
        _("from"), max_length=20, choices=AssessmentStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=AssessmentStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True, max_length=5000)

    class Meta:
        verbose_name = _("assessment transition")
        verbose_name_plural = _("assessment transitions")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"
