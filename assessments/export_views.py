"""Directors download every submitted assessment of a questionnaire version as a CSV file,
streamed row by row so a large portfolio never sits in memory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.text import slugify
from django.views.decorators.http import require_GET
from rest_framework.renderers import JSONRenderer

from accounts.access import DIRECTORS, AuthenticatedHttpRequest, role_required
from accounts.models import SecurityEventKind
from accounts.services import security_event_record
from assessments.export import export_csv
from assessments.models import QuestionnaireVersion


def assessments_csv_response(request: Any, version: QuestionnaireVersion) -> StreamingHttpResponse:
    """The streamed CSV download of ``version``'s submitted assessments (pages and API),
    recorded in the security log."""
    security_event_record(
        kind=SecurityEventKind.EXPORT, request=request, export="assessments.csv", version=version.pk
    )
    response = StreamingHttpResponse(
        export_csv(version, language=translation.get_language()),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"{slugify(version.questionnaire.code)}-v{version.number}-assessments.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*DIRECTORS)
@require_GET
def version_assessments_csv(request: AuthenticatedHttpRequest, pk: int) -> StreamingHttpResponse:
    version = get_object_or_404(QuestionnaireVersion.objects.select_related("questionnaire"), pk=pk)
    return assessments_csv_response(request, version)


class CsvDownloadRenderer(JSONRenderer):
    """Lets an API client ask for ``text/csv``. The export itself streams past the
    renderers; the only bodies that reach this one are errors, which keep the API's one
    JSON error format."""

    media_type = "text/csv"
    format = "csv"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return super().render(data, "application/json", renderer_context)
