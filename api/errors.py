"""One JSON error format for every API failure.

Every error answers with::

    {"type": "validation_error", "detail": "Invalid input.",
     "errors": [{"field": "name", "code": "required", "message": "This field is required."}]}

``type`` is stable and machine-readable; ``detail`` is for people, in the request's
language; ``errors`` lists every field problem with a dotted path to it
(``answers.3.value``), empty for errors that concern no field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import SecurityEventKind
from accounts.services import security_event_record

_TYPES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def flatten_errors(details: Any, path: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error details into a flat list with dotted field paths."""
    if isinstance(details, dict):
        if set(details) == {"message", "code"}:
            return [
                {"field": path, "code": str(details["code"]), "message": str(details["message"])}
            ]
        flat: list[dict[str, str]] = []
        for key, value in details.items():
            name = "" if key == "non_field_errors" else str(key)
            flat += flatten_errors(value, f"{path}.{name}".strip(".") if name else path)
        return flat
    if isinstance(details, list):
        flat = []
        nested = any(
            isinstance(item, dict) and set(item) != {"message", "code"} for item in details
        )
        for index, item in enumerate(details):
            flat += flatten_errors(item, f"{path}.{index}".strip(".") if nested else path)
        return flat
    return [{"field": path, "code": "invalid", "message": str(details)}]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handling (and handler500) applies
    if isinstance(exc, exceptions.APIException):
        kind = next((name for cls, name in _TYPES.items() if isinstance(exc, cls)), "error")
        if isinstance(exc, exceptions.ValidationError):
            errors = flatten_errors(exc.get_full_details())
            detail = _("Invalid input.")
        else:
            errors = []
            detail = str(exc.detail)
    else:  # Http404 and PermissionDenied, which DRF has already turned into a response
        kind = "not_found" if response.status_code == 404 else "permission_denied"
        errors = []
        detail = str(response.data.get("detail", "")) if isinstance(response.data, dict) else ""
    response.data = {"type": kind, "detail": detail, "errors": errors}
    if kind == "permission_denied":
        request = context.get("request")
        security_event_record(
            kind=SecurityEventKind.PERMISSION_DENIED,
            request=getattr(request, "_request", request),
            user=getattr(request, "user", None),
            method=getattr(request, "method", ""),
        )
    return response


def json_error(request: HttpRequest, *, status_code: int, kind: str, detail: str) -> JsonResponse:
    return JsonResponse({"type": kind, "detail": detail, "errors": []}, status=status_code)


def api_bad_request(request: HttpRequest) -> JsonResponse:
    return json_error(
        request,
        status_code=status.HTTP_400_BAD_REQUEST,
        kind="bad_request",
        detail=_(
            "The request could not be read: too large, too many fields, or characters "
            "that are not allowed."
        ),
    )


def api_not_found(request: HttpRequest) -> JsonResponse:
    return json_error(
        request, status_code=status.HTTP_404_NOT_FOUND, kind="not_found", detail=_("Not found.")
    )


def api_server_error(request: HttpRequest) -> JsonResponse:
    return json_error(
        request,
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        kind="server_error",
        detail=_("Something went wrong on our side; it has been logged."),
    )
