"""The assessment API's serializers: what it reads and writes, and its error bodies for
the schema (assessments/assessment_api.py has the viewset)."""

from __future__ import annotations

from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_description_list
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from api.schema import ApiErrorEntrySerializer, error_body
from api.serializers import FieldsBuiltOnce
from assessments.i18n import localized
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AssessmentTransition,
    DimensionKind,
    DimensionResult,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.scoring import Quadrant
from clients.serializers import VisibleEngagementField
from core.text import has_lone_surrogate

# --- Fields ---------------------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice field that the schema shows as one named enum component.

    drf-spectacular names enums after the property, and ``status`` and ``kind`` already
    carry other choice sets elsewhere in the API (questionnaire versions, timeline
    entries); naming the set here keeps the schema free of collision warnings and gives
    integrations one ``AssessmentStatusEnum`` for ``status``, ``from_status`` and
    ``to_status``.
    """

    def __init__(self, *args: Any, component_name: str, **kwargs: Any) -> None:
        self.component_name = component_name
        super().__init__(*args, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def get_name(self) -> str | None:
        return cast(NamedChoiceField, self.target).component_name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = cast(NamedChoiceField, self.target)
        choices = {value: label for value, label in field.choices.items() if value != ""}
        return {
            "type": "string",
            "enum": list(choices),
            "description": build_choice_description_list(choices.items()),
        }


def _status_field(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(
        choices=AssessmentStatus.choices,
        component_name="AssessmentStatusEnum",
        read_only=True,
        **kwargs,
    )


# --- Read serializers -----------------------------------------------------------------------


class AnswerSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A stored answer. Send ``revision`` back with the next change of it."""

    code = serializers.SerializerMethodField(help_text=_("The question's code."))

    class Meta:
        model = Answer
        fields = ["question", "code", "value", "not_applicable", "na_reason", "note", "revision"]
        read_only_fields = fields

    def get_code(self, answer: Answer) -> str:
        # Reads annotate the code (no Question rows loaded); saved answers carry their question.
        code = getattr(answer, "question_code", None)
        return code if code is not None else answer.question.code

    def to_representation(self, instance: Answer) -> dict[str, Any]:
        # What the fields above give, written out: an assessment shows every answer, and
        # DRF's field by field walk cost about 1 ms for 48 (tests/test_answer_input.py
        # checks that both agree).
        return {
            "question": instance.question_id,
            "code": self.get_code(instance),
            "value": instance.value,
            "not_applicable": bool(instance.not_applicable),
            "na_reason": str(instance.na_reason),
            "note": str(instance.note),
            "revision": int(instance.revision),
        }


class AssessmentTransitionSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A status change: who made it, when, and the reviewer's comment."""

    from_status = _status_field(
        allow_null=True,
        help_text=_("The status before; null for the first step, the assessment's start."),
    )
    to_status = _status_field()

    class Meta:
        model = AssessmentTransition
        fields = ["from_status", "to_status", "by", "at", "comment"]
        read_only_fields = fields

    def to_representation(self, instance: AssessmentTransition) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not data["from_status"]:
            data["from_status"] = None  # stored blank: the assessment had no status before
        return data


class DimensionScoreSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A dimension's score in the stored result."""

    name = serializers.SerializerMethodField(
        help_text=_("The dimension's name in the request's language.")
    )
    kind = NamedChoiceField(
        choices=DimensionKind.choices, component_name="DimensionScoreKindEnum", read_only=True
    )

    class Meta:
        model = DimensionResult
        fields = ["code", "name", "kind", "score"]
        read_only_fields = fields

    def get_name(self, result: DimensionResult) -> str:
        return localized(result.dimension.name) or result.code


class AssessmentResultSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """The scores stored when the assessment was submitted."""

    quadrant = serializers.ChoiceField(
        choices=[quadrant.value for quadrant in Quadrant],
        allow_null=True,
        read_only=True,
        help_text=_("Null when maturity or defensiveness could not be scored."),
    )
    dimension_scores = DimensionScoreSerializer(
        source="dimension_results.all", many=True, read_only=True
    )

    class Meta:
        model = Assessment
        fields = [
            "maturity_score", "maturity_level", "defensiveness_index", "quadrant",
            "completeness", "dimension_scores",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, instance: Assessment) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["quadrant"] = data["quadrant"] or None  # stored blank when there is none
        return data


class AssessmentSummarySerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """An assessment as lists show it: without its answers and history."""

    client = serializers.IntegerField(
        source="client_pk", read_only=True, help_text=_("The engagement's client id.")
    )
    questionnaire_version: serializers.PrimaryKeyRelatedField[QuestionnaireVersion] = (
        serializers.PrimaryKeyRelatedField(source="version", read_only=True)
    )
    status = _status_field()
    result = serializers.SerializerMethodField(
        help_text=_("The stored scores; null until the assessment is submitted.")
    )

    class Meta:
        model = Assessment
        fields = [
            "id", "engagement", "client", "questionnaire_version", "assessor", "status",
            "created_at", "submitted_at", "reviewed_at", "result",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(AssessmentResultSerializer(allow_null=True))
    def get_result(self, assessment: Assessment) -> dict[str, Any] | None:
        if assessment.submitted_at is None:
            return None
        return cast(
            dict[str, Any], AssessmentResultSerializer.shared().to_representation(assessment)
        )


class AssessmentSerializer(AssessmentSummarySerializer):
    """An assessment with its answers, its result (once submitted) and its history."""

    answers = AnswerSerializer(many=True, read_only=True)
    transitions = AssessmentTransitionSerializer(many=True, read_only=True)

    class Meta(AssessmentSummarySerializer.Meta):
        fields = [*AssessmentSummarySerializer.Meta.fields, "answers", "transitions"]
        read_only_fields = fields


# --- Input serializers ----------------------------------------------------------------------


class AssessmentCreateSerializer(serializers.ModelSerializer):
    """What starting an assessment needs. Parses only: assessment_start does the rest."""

    # Its sight is checked by the start's own statement (assessment_start's in_sight_of).
    engagement = VisibleEngagementField(
        checked_by_the_service=True, help_text=_("The engagement to assess.")
    )
    questionnaire_version = serializers.PrimaryKeyRelatedField(
        source="version",
        queryset=QuestionnaireVersion.objects.all(),
        required=False,
        allow_null=True,
        help_text=_(
            "A published questionnaire version; by default the current version of the "
            "default questionnaire."
        ),
    )

    class Meta:
        model = Assessment
        fields = ["engagement", "questionnaire_version"]

    def validate_questionnaire_version(
        self, version: QuestionnaireVersion | None
    ) -> QuestionnaireVersion | None:
        if version is not None and version.status != VersionStatus.PUBLISHED:
            raise serializers.ValidationError(
                _("Only a published questionnaire version can be used."), code="not_published"
            )
        return version


class AnswerInputSerializer(serializers.Serializer):
    """One answer as sent. An answer that is plainly well-formed — the types JSON gives
    each field, no NUL or lone surrogate in its texts — is read without DRF's field by
    field validation (48 answers took about 2 ms through it); anything else goes the long
    way and gets DRF's errors. Both give the same result: tests/test_answer_input.py."""

    question = serializers.IntegerField(help_text=_("The question's id."))
    value = serializers.JSONField(
        default=None,
        allow_null=True,
        help_text=_(
            "A level from 1 to 5, an option's code, true/false, a number or a text, by the "
            "question's type. null (or omitted) without `not_applicable` clears the answer."
        ),
    )
    not_applicable = serializers.BooleanField(default=False)
    na_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_(
            "Why the question does not apply; required with `not_applicable`. Omitted: "
            "the stored reason is kept."
        ),
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=_('Evidence note. Omitted: the stored note is kept; "" clears it.'),
    )
    revision = serializers.IntegerField(
        default=None,
        allow_null=True,
        min_value=0,
        help_text=_(
            "The revision of the answer as last read; omit it (or send null) for a question "
            "not answered yet. A change made from an older revision is refused with 409."
        ),
    )

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # Quick before DRF's whole validation (it has no validators to skip here): its
        # steps around the fields cost as much as the fields for each of 48 answers.
        plain = _plainly_valid(data, with_revision="revision" in self.fields)
        return plain if plain is not None else super().run_validation(data)


class ImportedAnswerSerializer(AnswerInputSerializer):
    """An answer of an imported assessment: new, so without a revision."""

    revision = None  # type: ignore[assignment]


# An import answers a whole questionnaire at once; the answers endpoint takes as many.
MAX_IMPORTED_ANSWERS = 500


class AssessmentImportSerializer(AssessmentCreateSerializer):
    """A finished assessment to import: where, on which version, and every answer. The
    engagement's sight is checked by the import's own read (assessment_import's
    in_sight_of), as the create's is by its insert."""

    answers = ImportedAnswerSerializer(  # type: ignore[call-arg]
        many=True,
        allow_empty=False,
        max_length=MAX_IMPORTED_ANSWERS,
        help_text=_(
            "Every answer, one per question of the version; each required question "
            "answered or marked not applicable."
        ),
    )

    class Meta(AssessmentCreateSerializer.Meta):
        fields = [*AssessmentCreateSerializer.Meta.fields, "answers"]


def _plain_text(value: Any) -> bool:
    """A string DRF's CharField keeps as it is (after trimming): no NUL, no surrogate."""
    return type(value) is str and "\x00" not in value and not has_lone_surrogate(value)


def _plainly_valid(data: Any, *, with_revision: bool) -> dict[str, Any] | None:
    """What AnswerInputSerializer's fields make of ``data`` when every field is exactly the
    type JSON gives it; None otherwise (then DRF's fields decide, with their errors)."""
    if type(data) is not dict:
        return None
    question = data.get("question")
    not_applicable = data.get("not_applicable", False)
    if type(question) is not int or type(not_applicable) is not bool:
        return None
    plain: dict[str, Any] = {
        "question": question,
        "value": data.get("value"),
        "not_applicable": not_applicable,
    }
    if "na_reason" in data:
        if not _plain_text(data["na_reason"]):
            return None
        plain["na_reason"] = data["na_reason"].strip()
    if "note" in data:
        if not _plain_text(data["note"]):
            return None
        plain["note"] = data["note"]
    if with_revision:
        revision = data.get("revision")
        if revision is not None and (type(revision) is not int or revision < 0):
            return None
        plain["revision"] = revision
    return plain


class AssessmentReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=[("approve", _("Approve")), ("return", _("Return for correction"))]
    )
    comment = serializers.CharField(
        default="",
        allow_blank=True,
        help_text=_("Required when returning: what should be corrected."),
    )


# --- Error bodies (for the schema) ----------------------------------------------------------


class StoredAnswerSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True)
    not_applicable = serializers.BooleanField()
    na_reason = serializers.CharField()
    note = serializers.CharField()
    revision = serializers.IntegerField()


class AnswerProblemSerializer(ApiErrorEntrySerializer):
    current = StoredAnswerSerializer(
        allow_null=True,
        required=False,
        help_text=_(
            "Only on a stale write (code `stale`): the answer as stored now, null if it was "
            "removed."
        ),
    )


ANSWERS_REFUSED = error_body("AnswersRefused", AnswerProblemSerializer(many=True))
