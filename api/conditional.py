"""Optimistic concurrency for integrations (RFC 9110 conditional requests): a detail GET
answers with an ``ETag``; a PUT, PATCH or DELETE sent with ``If-Match`` is applied only if
the row still has that tag, and otherwise answered 412 with the row as it is now, so two
integrations (or an integration and a person) cannot overwrite each other unseen.

The tag is a digest of the representation the caller is given, so anything that changes
what they would read changes it. The check and the write happen in one transaction with
the row locked: no write can slip in between. Without ``If-Match`` a write is applied as
before (the header is the caller's opt-in).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder


def etag_of(representation: Any) -> str:
    """A strong entity tag for a representation (the serializer's data)."""
    canonical = json.dumps(representation, cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:40] + '"'


def _matches(header: str, tag: str) -> bool:
    """If-Match's strong comparison: ``*`` or one of the listed tags, weak ones never."""
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or tag in candidates


class ConditionalMixin:
    """For a ModelViewSet: ETag on retrieve, create and update; If-Match on update,
    partial update and destroy; If-None-Match on retrieve (304)."""

    def _current(self) -> tuple[dict[str, Any], str]:
        """The object's representation and tag, its row locked until the transaction
        ends."""
        instance = self.get_object()  # type: ignore[attr-defined]
        type(instance).objects.select_for_update().filter(pk=instance.pk).exists()
        instance = self.get_object()  # type: ignore[attr-defined]  # as it is under the lock
        data = self.get_serializer(instance).data  # type: ignore[attr-defined]
        return data, etag_of(data)

    def _conditional(self, request: Request, write: Any, *args: Any, **kwargs: Any) -> Response:
        condition = request.headers.get("If-Match")
        if condition is None:
            return self._tagged(write(request, *args, **kwargs))
        with transaction.atomic():
            data, tag = self._current()
            if not _matches(condition, tag):
                return Response(
                    {
                        "type": "precondition_failed",
                        "detail": _(
                            "This row changed since you read it (its ETag is no longer the "
                            "one in If-Match). Here it is as it is now: apply your change to "
                            "it and send it again with its new ETag."
                        ),
                        "errors": [],
                        "current": data,
                    },
                    status=status.HTTP_412_PRECONDITION_FAILED,
                    headers={"ETag": tag},
                )
            return self._tagged(write(request, *args, **kwargs))

    @staticmethod
    def _tagged(response: Response) -> Response:
        if 200 <= response.status_code < 300 and isinstance(response.data, dict):
            response["ETag"] = etag_of(response.data)
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = self._tagged(super().retrieve(request, *args, **kwargs))  # type: ignore[misc]
        condition = request.headers.get("If-None-Match")
        if condition and _matches(condition, response["ETag"]):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": response["ETag"]})
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._tagged(super().create(request, *args, **kwargs))  # type: ignore[misc]

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._conditional(request, super().update, *args, **kwargs)  # type: ignore[misc]

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._conditional(request, super().destroy, *args, **kwargs)  # type: ignore[misc]
