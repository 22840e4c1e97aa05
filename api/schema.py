"""The API's OpenAPI contract beyond what drf-spectacular infers: the token scheme, the
error shape, and the headers of idempotent and conditional requests with the statuses they
add (every POST: Idempotency-Key, 409, 422; the conditional resources: ETag, If-Match,
If-None-Match, 304, 412)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from api.conditional import ConditionalMixin
from api.idempotency import HEADER as IDEMPOTENCY_HEADER


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `manage.py issue_token USERNAME`.",
        }


class ApiErrorEntrySerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


def error_body(name: str, entry: serializers.Serializer, **more: Any) -> serializers.Serializer:
    """The error shape every refusal has (api/errors.py), with ``entry`` as each item of
    ``errors``. Inline: a declared field named ``errors`` would shadow Serializer.errors."""
    return inline_serializer(
        name=name,
        fields={
            "type": serializers.CharField(),
            "detail": serializers.CharField(),
            "errors": entry,
            **more,
        },
    )


API_ERROR = error_body("ApiError", ApiErrorEntrySerializer(many=True))
PRECONDITION_FAILED = error_body(
    "PreconditionFailed",
    ApiErrorEntrySerializer(many=True),
    current=serializers.DictField(help_text="The row as it is now."),
)


IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    # What api/idempotency.py accepts: printable ASCII, 1 to 255 characters.
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (at most 255 printable ASCII characters). The same key and body "
        "within a day get the first answer again, with `Idempotent-Replayed: true`, and the "
        "work is done once."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read: the write is refused with 412 if the row changed since.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you have: 304 without a body if the row has not changed.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The row's entity tag, for If-Match and If-None-Match.",
    response=[200, 201, 304, 412],
)


class AutoSchema(SpectacularAutoSchema):
    def _conditional(self) -> bool:
        return isinstance(self.view, ConditionalMixin) and not self._is_list_view()

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        if self._conditional():
            if self.method in ("PUT", "PATCH", "DELETE"):
                parameters.append(IF_MATCH)
            elif self.method == "GET":
                parameters.append(IF_NONE_MATCH)
            if self.method != "DELETE":
                parameters.append(ETAG)
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        bodies = dict(super()._get_response_bodies(direction))
        extra: dict[str, Any] = {
            "401": OpenApiResponse(API_ERROR, "No credentials, or not valid ones."),
            "403": OpenApiResponse(
                API_ERROR, "Not allowed to the caller (its role, or a read-only token)."
            ),
            "429": OpenApiResponse(API_ERROR, "Too many calls: wait for Retry-After."),
        }
        if "{" in self.path or self._is_list_view():
            extra["404"] = OpenApiResponse(
                API_ERROR, "Not found, out of the caller's sight, or an invalid cursor."
            )
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view() or "{" not in self.path:
            extra["400"] = OpenApiResponse(
                API_ERROR, "Invalid input: each problem named with its field."
            )
        elif self.method == "DELETE":
            extra["400"] = OpenApiResponse(
                API_ERROR,
                "Refused: what still depends on the row is said (an engagement "
                "with assessments is kept).",
            )
        if self.method == "POST":
            extra["409"] = OpenApiResponse(
                API_ERROR, "A request with this Idempotency-Key is still running."
            )
            extra["422"] = OpenApiResponse(
                API_ERROR, "This Idempotency-Key was used for another request."
            )
        if self._conditional():
            if self.method in ("PUT", "PATCH", "DELETE"):
                extra["412"] = OpenApiResponse(
                    PRECONDITION_FAILED, "The row changed since the ETag in If-Match."
                )
            elif self.method == "GET":
                extra["304"] = OpenApiResponse(None, "Not modified since the ETag given.")
        for code, response in extra.items():
            if code not in bodies:
                bodies[code] = self._get_response_for_code(response, code, direction=direction)
        return bodies
