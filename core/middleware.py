"""Middleware of the project's own."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse


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
