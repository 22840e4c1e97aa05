"""Middleware of the project's own."""

from __future__ import annotations

import logging
from collections.abc import Callable

import structlog
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver, get_urlconf

log = logging.getLogger(__name__)


class RequestIdHeaderMiddleware:
    """Tells the caller the request id its logs carry (``X-Request-ID``), so a user or an
    integration reporting a problem can name the request and support can find every log
    line of it — the web's and the Celery tasks' it enqueued. Sits just inside
    django-structlog's RequestMiddleware, which binds the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            response["X-Request-ID"] = request_id
        return response


class NulInRequest(SuspiciousOperation):
    """A NUL character in the path or the query string."""


class RefuseNulMiddleware:
    """Answers 400 to a path or query string holding a NUL character, before anything
    reads it: no text of this product contains one, and PostgreSQL refuses it in a query
    (a filter given ``%00`` ended in a 500). Bodies go through the forms' and
    serializers' own validation, which refuses NUL already."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in value for _, values in request.GET.lists() for value in values
        ):
            # Answered here, by the project's 400 handler (the API's error shape under
            # /api/), not raised: a fuzzer's junk is worth a warning, not a traceback.
            refusal = NulInRequest("NUL character in the request's path or query string.")
            log.warning("nul_in_request", extra={"path": request.path.replace("\x00", "\\0")})
            handler = get_resolver(get_urlconf()).resolve_error_handler(400)
            return handler(request, refusal)  # type: ignore[call-arg]  # (request, exception)
        return self.get_response(request)
