"""REST API for assessments: start (or resume) one, save answers, submit, review.

The contract integrations code against. Serializers parse and validate; every write goes
through assessments.services and every read starts from
``assessments.selectors.assessments_visible_to``, so another manager's assessment answers
404 and another manager's engagement fails exactly like an id that does not exist.

A detail costs the same queries whatever the number of answers (answers, transitions and
dimension scores are prefetched); a list the same whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import django_filters
from django.db.models import F, Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import DIRECTORS, HasRole
from accounts.models import User
from api.schema import API_ERROR
from api.serializers import service_errors_as_drf
from assessments.assessment_serializers import (
    ANSWERS_REFUSED,
    AnswerInputSerializer,
    AnswerSerializer,
    AssessmentCreateSerializer,
    AssessmentImportSerializer,
    AssessmentReviewSerializer,
    AssessmentSerializer,
    AssessmentSummarySerializer,
)
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AssessmentTransition,
    DimensionResult,
)
from assessments.selectors import (
    FORM_ORDER,
    answers_in_form_order,
    assessments_visible_to,
    history_of,
)
from assessments.services import (
    AnswerInput,
    AnswersRefused,
    MissingAnswers,
    answers_save,
    as_written,
    assessment_import,
    assessment_review,
    assessment_start,
    assessment_submit,
)
from clients.filters import ScopedClientFilterSet
from clients.models import Client, Engagement
from clients.serializers import VisibleEngagementField

MAX_ANSWERS_PER_REQUEST = 500


# --- Filters --------------------------------------------------------------------------------


class AssessmentFilter(ScopedClientFilterSet):
    """``client`` and ``engagement`` offer only what the caller may see, so someone else's
    id fails like one that does not exist."""

    client = django_filters.ModelChoiceFilter(
        field_name="engagement__client", queryset=Client.objects.none(), label=_("Client")
    )
    engagement = django_filters.ModelChoiceFilter(
        queryset=Engagement.objects.none(), label=_("Engagement")
    )
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices, label=_("Status"))
    assessor = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Assessor"))

    class Meta:
        model = Assessment
        fields = ["engagement", "client", "status", "assessor"]


# --- Examples -------------------------------------------------------------------------------

ANSWER_EXAMPLE = {
    "question": 12,
    "code": "pk-1",
    "value": 4,
    "not_applicable": False,
    "na_reason": "",
    "note": "Their operations head quoted our AHT by heart.",
    "revision": 2,
}
RESULT_EXAMPLE = {
    "maturity_score": 62.5,
    "maturity_level": 3,
    "defensiveness_index": 71.0,
    "quadrant": "demanding_expert",
    "completeness": 100.0,
    "dimension_scores": [
        {
            "code": "process-knowledge",
            "name": "Knowledge of the outsourced process",
            "kind": "maturity",
            "score": 75.0,
        },
        {
            "code": "contract-rigidity",
            "name": "Contractual rigidity",
            "kind": "defensiveness",
            "score": 80.0,
        },
    ],
}
ASSESSMENT_EXAMPLE = {
    "id": 55,
    "engagement": 310,
    "client": 42,
    "questionnaire_version": 3,
    "assessor": 7,
    "status": "draft",
    "created_at": "2026-06-01T09:12:00-03:00",
    "submitted_at": None,
    "reviewed_at": None,
    "result": None,
    "answers": [ANSWER_EXAMPLE],
    "transitions": [
        {"from_status": None, "to_status": "draft", "by": 7, "at": "2026-06-01T09:12:00-03:00",
         "comment": ""},
    ],
}  # fmt: skip
SUBMITTED_EXAMPLE = ASSESSMENT_EXAMPLE | {
    "status": "submitted",
    "submitted_at": "2026-06-03T17:40:00-03:00",
    "result": RESULT_EXAMPLE,
    "transitions": [
        *ASSESSMENT_EXAMPLE["transitions"],  # type: ignore[misc]
        {"from_status": "draft", "to_status": "submitted", "by": 7,
         "at": "2026-06-03T17:40:00-03:00", "comment": ""},
    ],
}  # fmt: skip
RETURNED_EXAMPLE = SUBMITTED_EXAMPLE | {
    "status": "returned",
    "reviewed_at": "2026-06-04T11:00:00-03:00",
    "transitions": [
        *SUBMITTED_EXAMPLE["transitions"],  # type: ignore[misc]
        {"from_status": "submitted", "to_status": "returned", "by": 3,
         "at": "2026-06-04T11:00:00-03:00",
         "comment": "pk-2 says 5 but the notes describe a level 3."},
    ],
}  # fmt: skip
STALE_EXAMPLE = {
    "type": "conflict",
    "detail": "Someone else changed these answers since you loaded them; nothing was saved.",
    "errors": [
        {
            "field": "1.revision",
            "code": "stale",
            "message": "Someone else changed this answer since you loaded it. It now reads "
            "as shown; check it and answer again.",
            "current": {
                "value": 4,
                "not_applicable": False,
                "na_reason": "",
                "note": "Confirmed with the CFO.",
                "revision": 3,
            },
        }
    ],
}
INVALID_ANSWERS_EXAMPLE = {
    "type": "validation_error",
    "detail": "Invalid input.",
    "errors": [
        {"field": "0.value", "code": "invalid", "message": "Choose a level from 1 to 5."},
        {
            "field": "2.na_reason",
            "code": "invalid",
            "message": "Say why this question does not apply.",
        },
    ],
}
MISSING_ANSWERS_EXAMPLE = {
    "type": "validation_error",
    "detail": "Invalid input.",
    "errors": [
        {"field": "answers", "code": "required", "message": "Question pk-3 is not answered yet."},
        {"field": "answers", "code": "required", "message": "Question gov-4 is not answered yet."},
    ],
}


# --- Viewset --------------------------------------------------------------------------------


class ReviewerPermission(HasRole):
    allowed_roles = DIRECTORS
    message = _("Only directors review assessments.")


def _answer_reads() -> QuerySet[Answer]:
    return Answer.objects.annotate(question_code=F("question__code")).order_by(*FORM_ORDER)


def _dimension_reads() -> QuerySet[DimensionResult]:
    return DimensionResult.objects.select_related("dimension").order_by(
        "dimension__position", "dimension_id"
    )


# What the detail shows of an assessment besides its row: _prefetches(detail=True)'s.
DETAIL_RELATIONS = {"answers", "transitions", "dimension_results"}


def _prefetches(*, detail: bool) -> list[Prefetch[Any, Any, Any]]:
    """What a list shows of each assessment besides its row, and what the detail adds."""
    lookups: list[Prefetch[Any, Any, Any]] = [
        Prefetch("dimension_results", queryset=_dimension_reads())
    ]
    if detail:
        lookups += [
            Prefetch("answers", queryset=_answer_reads()),
            Prefetch("transitions", queryset=AssessmentTransition.objects.order_by("at", "id")),
        ]
    return lookups


@extend_schema_view(
    list=extend_schema(
        summary=_("List assessments"),
        description=_(
            "Assessments of the clients the caller may see, newest first, without their "
            "answers. Filter with `engagement`, `client`, `status` and `assessor`."
        ),
        examples=[
            OpenApiExample(
                "Assessment",
                value={
                    k: v
                    for k, v in SUBMITTED_EXAMPLE.items()
                    if k not in {"answers", "transitions"}
                },
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary=_("Show an assessment"),
        description=_(
            "With its answers (send each answer's `revision` back when changing it), its "
            "status history and, once submitted, its stored result."
        ),
        examples=[
            OpenApiExample("Draft", value=ASSESSMENT_EXAMPLE, response_only=True),
            OpenApiExample("Submitted", value=SUBMITTED_EXAMPLE, response_only=True),
        ],
    ),
    create=extend_schema(
        summary=_("Start (or resume) an assessment"),
        description=_(
            "Starts a draft for the engagement on the current published version of the "
            "default questionnaire, or on `questionnaire_version` (a published version). "
            "Answers **201** with the new draft — or, when the caller already has an open "
            "(draft or returned) assessment of that engagement, **200** with that one: it is "
            "resumed, whatever `questionnaire_version` says."
        ),
        request=AssessmentCreateSerializer,
        responses={
            201: OpenApiResponse(AssessmentSerializer, description=_("A new draft.")),
            200: OpenApiResponse(
                AssessmentSerializer, description=_("The caller's open assessment, resumed.")
            ),
            400: API_ERROR,
        },
        examples=[
            OpenApiExample("Default questionnaire", value={"engagement": 310}, request_only=True),
            OpenApiExample(
                "Another published version",
                value={"engagement": 310, "questionnaire_version": 3},
                request_only=True,
            ),
            OpenApiExample(
                "Started",
                value=ASSESSMENT_EXAMPLE | {"answers": []},
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Resumed", value=ASSESSMENT_EXAMPLE, response_only=True, status_codes=["200"]
            ),
        ],
    ),
)
class AssessmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Assessments of the clients the caller may see. No PUT, PATCH or DELETE: answers
    change through ``answers/``, the status through ``submit/`` and ``review/``."""

    filterset_class = AssessmentFilter

    @property
    def user(self) -> User:
        # IsAuthenticated (the default permission) has already refused anonymous callers.
        return cast(User, self.request.user)

    def get_queryset(self) -> QuerySet[Assessment]:
        return self._reads(detail=self.action != "list")

    @contextmanager
    def _locked_in_sight(self) -> Iterator[Assessment]:
        """For a write: the URL's assessment by its id alone — the service's lock looks it
        up among those the caller may see (lock_for_write's ``in_sight_of``), so the
        access check and the lock are one statement. One out of sight answers 404, like
        one that does not exist."""
        try:
            target = Assessment(pk=int(self.kwargs["pk"]))
        except (TypeError, ValueError):
            raise Http404 from None
        try:
            yield target
        except Assessment.DoesNotExist:
            raise Http404 from None

    def _reads(self, *, detail: bool) -> QuerySet[Assessment]:
        """Assessments as the API shows them: a fixed number of queries for any number of
        rows, answers and dimensions. The stored ``result`` snapshot (with the scoring's
        explanation) is not needed: the scores are columns and dimension rows."""
        queryset = (
            assessments_visible_to(self.request.user)
            .defer("result")
            .annotate(client_pk=F("engagement__client_id"))
        )
        return queryset.prefetch_related(*(_prefetches(detail=detail)))

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "list":
            return AssessmentSummarySerializer
        if self.action == "create":
            return AssessmentCreateSerializer
        return AssessmentSerializer

    def get_permissions(self) -> Sequence[Any]:
        permissions = super().get_permissions()
        if self.action == "review":
            # Checked before the body is read: anyone else gets 403, whatever they send.
            return [*permissions, ReviewerPermission()]
        return permissions

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Filters narrow lists; a detail URL names its row.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def _detail(self, assessment: Assessment, *, status_code: int = 200) -> Response:
        """The assessment a service has just returned, as the detail shows it: its row as
        the service left it (locked and written, or just read), and — read now —
        whichever of its answers, history and dimension scores the service did not bring
        along as written (as_written; a start and a submit bring all three): the answers
        and history by prepared statements (a review's, a retried submit's), the rest
        with the detail's prefetches. The access check is not run again: the request was
        allowed to write it."""
        known = getattr(assessment, "_prefetched_objects_cache", {})
        if "answers" not in known and "transitions" not in known:  # a review's
            as_written(
                assessment,
                answers=answers_in_form_order(assessment),
                transitions=history_of(assessment),
            )
            known = assessment._prefetched_objects_cache  # type: ignore[attr-defined]
        if not known.keys() >= DETAIL_RELATIONS:  # (building the prefetches costs too)
            prefetch_related_objects(
                [assessment],
                *(lookup for lookup in _prefetches(detail=True) if lookup.prefetch_to not in known),
            )
        assessment.client_pk = assessment.engagement.client_id  # type: ignore[attr-defined]
        data = AssessmentSerializer.shared().to_representation(assessment)
        return Response(data, status=status_code)

    # --- Start ----------------------------------------------------------------------------

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = AssessmentCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        engagement = serializer.validated_data["engagement"]
        try:
            with service_errors_as_drf():
                assessment, created = assessment_start(
                    engagement=engagement,
                    by=self.user,
                    version=serializer.validated_data.get("version"),
                    in_sight_of=self.user,
                )
        except Engagement.DoesNotExist:
            field = cast(VisibleEngagementField, serializer.fields["engagement"])
            raise field.refusal(engagement.pk) from None
        return self._detail(
            assessment, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    # --- Answers --------------------------------------------------------------------------

    @extend_schema(
        summary=_("Save answers"),
        description=_(
            "One answer object or a list of them; each inserts or updates the answer to "
            "its question. All or nothing: if any answer is refused, none of the request "
            "is saved. Changing an existing answer needs the `revision` last read; a change "
            "made from an older revision is refused with **409** (type `conflict`) and each "
            "error entry carries `current`, the answer as stored now. Invalid answers "
            "answer **400** with one entry per problem: field `3.value` for the fourth "
            "answer of a list, `value` for a single object. Answers **200** with the saved "
            "answers (always a list, in the request's order) and their new revisions."
        ),
        request=PolymorphicProxySerializer(
            component_name="AnswersSaveRequest",
            serializers=[AnswerInputSerializer, AnswerInputSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            200: AnswerSerializer(many=True),
            400: ANSWERS_REFUSED,
            403: API_ERROR,
            404: API_ERROR,
            409: OpenApiResponse(
                ANSWERS_REFUSED,
                description=_(
                    "Stale write: someone changed these answers since the caller read them. "
                    "Nothing was saved; `current` shows each answer as stored now."
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "One answer",
                value={"question": 12, "value": 4, "note": "Quoted our AHT.", "revision": 1},
                request_only=True,
            ),
            OpenApiExample(
                "Several answers",
                value=[
                    {"question": 12, "value": 4, "revision": 1},
                    {"question": 13, "value": "quarterly"},
                    {
                        "question": 20,
                        "not_applicable": True,
                        "na_reason": "Back-office process: no customer contact.",
                    },
                ],
                request_only=True,
            ),
            # A list response: drf-spectacular shows the example as one item of it.
            OpenApiExample("Saved", value=ANSWER_EXAMPLE, response_only=True, status_codes=["200"]),
            OpenApiExample(
                "Invalid answers",
                value=INVALID_ANSWERS_EXAMPLE,
                response_only=True,
                status_codes=["400"],
            ),
            OpenApiExample(
                "Stale write", value=STALE_EXAMPLE, response_only=True, status_codes=["409"]
            ),
        ],
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def answers(self, request: Request, pk: Any = None) -> Response:
        many = isinstance(request.data, list)
        if not many and not isinstance(request.data, dict):
            raise serializers.ValidationError(
                _("Send one answer object or a list of them."), code="invalid"
            )
        if many and len(request.data) > MAX_ANSWERS_PER_REQUEST:
            raise serializers.ValidationError(
                _("Send at most %(limit)d answers at once.") % {"limit": MAX_ANSWERS_PER_REQUEST},
                code="max_length",
            )
        serializer: serializers.BaseSerializer[Any] = (
            AnswerInputSerializer(data=request.data, many=True, allow_empty=False)
            if many
            else AnswerInputSerializer(data=request.data)
        )
        serializer.is_valid(raise_exception=True)
        items = serializer.validated_data if many else [serializer.validated_data]
        inputs = [AnswerInput(**item) for item in items]
        try:
            with self._locked_in_sight() as assessment, service_errors_as_drf():
                saved = answers_save(
                    assessment=assessment, by=self.user, answers=inputs, in_sight_of=self.user
                )
        except AnswersRefused as refused:
            return _refusal(refused, many=many)
        shown = AnswerSerializer.shared()
        return Response([shown.to_representation(answer) for answer in saved])

    # --- Submit ---------------------------------------------------------------------------

    @extend_schema(
        summary=_("Submit an assessment"),
        description=_(
            "Checks that every required question is answered (or marked not applicable), "
            "scores the answers and stores the result; the assessment can no longer change "
            "unless a director returns it. Missing answers answer **400** with one entry per "
            "unanswered question (field `answers`), in questionnaire order."
        ),
        request=None,
        responses={
            200: AssessmentSerializer,
            400: API_ERROR,
            403: API_ERROR,
            404: API_ERROR,
        },
        examples=[
            OpenApiExample(
                "Submitted", value=SUBMITTED_EXAMPLE, response_only=True, status_codes=["200"]
            ),
            OpenApiExample(
                "Missing answers",
                value=MISSING_ANSWERS_EXAMPLE,
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, pk: Any = None) -> Response:
        with (
            self._locked_in_sight() as assessment,
            service_errors_as_drf(),
            _missing_answers_as_drf(),
        ):
            submitted = assessment_submit(
                assessment=assessment, by=self.user, in_sight_of=self.user, shown=True
            )
        return self._detail(submitted)

    # --- Import ---------------------------------------------------------------------------

    @extend_schema(
        summary=_("Import a finished assessment"),
        description=_(
            "Creates, answers and submits an assessment in one call, for integrations "
            "that import assessments made elsewhere: all or nothing. The same checks as "
            "the three calls apply — each answer against its question (errors name the "
            "field as `answers.3.value`) and every required question answered or marked "
            "not applicable (field `answers`) — and nothing is written unless all pass. "
            "Always a new assessment (an open draft of the engagement is left as it is), "
            "on the current version of the default questionnaire unless "
            "`questionnaire_version` names another published one. Send an "
            "`Idempotency-Key` so that a retried import is not imported twice. Answers "
            "**201** with the submitted assessment and its result."
        ),
        request=AssessmentImportSerializer,
        responses={201: AssessmentSerializer, 400: ANSWERS_REFUSED},
        examples=[
            OpenApiExample(
                "Import",
                value={
                    "engagement": 310,
                    "answers": [
                        {"question": 12, "value": 4, "note": "Quoted our AHT."},
                        {"question": 13, "value": "quarterly"},
                        {
                            "question": 20,
                            "not_applicable": True,
                            "na_reason": "Back-office process: no customer contact.",
                        },
                    ],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Imported", value=SUBMITTED_EXAMPLE, response_only=True, status_codes=["201"]
            ),
        ],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        filter_backends=[],
        pagination_class=None,
    )
    def import_(self, request: Request) -> Response:
        serializer = AssessmentImportSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            with service_errors_as_drf(), _missing_answers_as_drf():
                imported = assessment_import(
                    engagement=data["engagement"],
                    by=self.user,
                    version=data.get("version"),
                    answers=[AnswerInput(**item) for item in data["answers"]],
                    in_sight_of=self.user,
                )
        except AnswersRefused as refused:
            return _refusal(refused, many=True, prefix="answers.")
        except Engagement.DoesNotExist:
            field = cast(VisibleEngagementField, serializer.fields["engagement"])
            raise field.refusal(data["engagement"].pk) from None
        return self._detail(imported, status_code=status.HTTP_201_CREATED)

    # --- Review ---------------------------------------------------------------------------

    @extend_schema(
        summary=_("Review a submitted assessment"),
        description=_(
            "Directors only. `approve` closes the assessment; `return` sends it back to the "
            "assessor for correction and needs a `comment` saying what to correct."
        ),
        request=AssessmentReviewSerializer,
        responses={
            200: AssessmentSerializer,
            400: API_ERROR,
            403: API_ERROR,
            404: API_ERROR,
        },
        examples=[
            OpenApiExample("Approve", value={"decision": "approve"}, request_only=True),
            OpenApiExample(
                "Return",
                value={
                    "decision": "return",
                    "comment": "pk-2 says 5 but the notes describe a level 3.",
                },
                request_only=True,
            ),
            OpenApiExample("Returned", value=RETURNED_EXAMPLE, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def review(self, request: Request, pk: Any = None) -> Response:
        serializer = AssessmentReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with self._locked_in_sight() as assessment, service_errors_as_drf():
            reviewed = assessment_review(
                assessment=assessment,
                in_sight_of=self.user,
                by=self.user,
                approve=serializer.validated_data["decision"] == "approve",
                comment=serializer.validated_data["comment"],
            )
        return self._detail(reviewed)


@contextmanager
def _missing_answers_as_drf() -> Iterator[None]:
    """A submit refused for unanswered questions: 400, one entry per question (field
    ``answers``), in the form's order."""
    try:
        yield
    except MissingAnswers as missing:
        raise serializers.ValidationError(
            {
                "answers": [
                    serializers.ErrorDetail(
                        str(_("Question %(code)s is not answered yet.") % {"code": question.code}),
                        code="required",
                    )
                    for question in missing.questions
                ]
            }
        ) from missing


def _refusal(refused: AnswersRefused, *, many: bool, prefix: str = "") -> Response:
    """The answers the service refused, in the API's error format: 409 when every problem
    is a stale write (with what is stored now), 400 otherwise. The problems are the
    service's, not DRF's, so the response is built here rather than raised."""
    errors: list[dict[str, Any]] = []
    for problem in refused.problems:
        entry: dict[str, Any] = {
            "field": f"{prefix}{problem.index}.{problem.field}" if many else problem.field,
            "code": problem.code,
            "message": str(problem.message),
        }
        if problem.code == "stale":
            entry["current"] = problem.current
        errors.append(entry)
    if refused.only_stale:
        return Response(
            {
                "type": "conflict",
                "detail": str(
                    _(
                        "Someone else changed these answers since you loaded them; "
                        "nothing was saved."
                    )
                ),
                "errors": errors,
            },
            status=status.HTTP_409_CONFLICT,
        )
    return Response(
        {"type": "validation_error", "detail": str(_("Invalid input.")), "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )
