"""Read-only REST API for questionnaires: integrations and the assessment UI read the
full structure of a version in one response (three queries, whatever its size)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from accounts.access import DIRECTORS, has_role, user_has_role
from assessments.export_views import CsvDownloadRenderer, assessments_csv_response
from assessments.models import (
    Dimension,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.selectors import questionnaire_list, version_with_structure


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = [
            "id", "code", "type", "position", "weight", "reverse", "required", "allow_na",
            "text", "help", "levels", "options", "min_value", "max_value",
        ]  # fmt: skip


class DimensionSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Dimension
        fields = ["id", "code", "kind", "weight", "position", "name", "description", "questions"]


class VersionSummarySerializer(serializers.ModelSerializer):
    question_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = QuestionnaireVersion
        fields = ["id", "number", "status", "published_at", "question_count"]


class VersionSerializer(serializers.ModelSerializer):
    """A version with its whole structure: dimensions, questions, levels and options."""

    questionnaire: serializers.SlugRelatedField[Questionnaire] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    dimensions = DimensionSerializer(many=True, read_only=True)

    class Meta:
        model = QuestionnaireVersion
        fields = [
            "id", "questionnaire", "number", "status", "notes", "based_on", "created_at",
            "published_at", "dimensions",
        ]  # fmt: skip


class QuestionnaireSerializer(serializers.ModelSerializer):
    versions = VersionSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Questionnaire
        fields = ["id", "code", "name", "description", "is_default", "versions"]


QUESTION_EXAMPLE = {
    "id": 12,
    "code": "pk-1",
    "type": "scale",
    "position": 0,
    "weight": 2.0,
    "reverse": False,
    "required": True,
    "allow_na": False,
    "text": {"en": "How well does the client know…", "pt-br": "…", "es": "…"},
    "help": {"en": "Look at…", "pt-br": "…", "es": "…"},
    "levels": [
        {"value": 1, "label": {"en": "Unaware"}, "description": {"en": "Learns of problems…"}},
    ],
    "options": [],
    "min_value": None,
    "max_value": None,
}


@extend_schema_view(
    list=extend_schema(summary="List questionnaires", description="With their versions."),
    retrieve=extend_schema(summary="Show a questionnaire"),
)
class QuestionnaireViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = QuestionnaireSerializer

    def get_queryset(self) -> QuerySet[Questionnaire]:
        return questionnaire_list()


@extend_schema_view(
    list=extend_schema(
        summary="List questionnaire versions",
        description=(
            "Each with its full structure. Filter with `questionnaire` (code) and `status`."
        ),
    ),
    retrieve=extend_schema(
        summary="Show a questionnaire version with its whole structure",
        examples=[
            OpenApiExample(
                "Version",
                response_only=True,
                value={
                    "id": 3,
                    "questionnaire": "bpo-client-maturity",
                    "number": 1,
                    "status": "published",
                    "notes": {},
                    "based_on": None,
                    "created_at": "2026-11-01T10:00:00-03:00",
                    "published_at": "2026-11-01T10:00:05-03:00",
                    "dimensions": [
                        {
                            "id": 30,
                            "code": "process-knowledge",
                            "kind": "maturity",
                            "weight": 1.0,
                            "position": 0,
                            "name": {"en": "Knowledge of the outsourced process"},
                            "description": {},
                            "questions": [QUESTION_EXAMPLE],
                        }
                    ],
                },
            )
        ],
    ),
)
class QuestionnaireVersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = VersionSerializer
    filterset_fields = ["status"]

    def get_queryset(self) -> QuerySet[QuestionnaireVersion]:
        queryset = version_with_structure()
        if not user_has_role(self.request.user, DIRECTORS):
            # Drafts are work in progress of the directors who tune questionnaires.
            queryset = queryset.exclude(status=VersionStatus.DRAFT)
        code = self.request.query_params.get("questionnaire")
        if code:
            queryset = queryset.filter(questionnaire__code=code)
        return queryset

    @extend_schema(
        operation_id="questionnaire_versions_assessments_csv_retrieve",
        summary="Download the submitted assessments of a version as CSV",
        description=(
            "Directors only. Every submitted or approved assessment of the version, one row "
            "each: its client, engagement, assessor, dates, status and result, then one "
            "column per question code in questionnaire order (`N/A`, `yes`/`no`, a choice's "
            "option code, numbers and text as answered). UTF-8 with a byte-order mark; "
            "streamed, not paginated."
        ),
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="The CSV file."
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="assessments.csv",
        url_name="assessments-csv",
        permission_classes=[
            *viewsets.ReadOnlyModelViewSet.permission_classes,
            has_role(*DIRECTORS),
        ],
        renderer_classes=[JSONRenderer, CsvDownloadRenderer],
        pagination_class=None,
        filter_backends=[],
    )
    def assessments_csv(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        version = get_object_or_404(
            QuestionnaireVersion.objects.select_related("questionnaire"), pk=pk
        )
        self.check_object_permissions(request, version)
        return assessments_csv_response(request, version)
