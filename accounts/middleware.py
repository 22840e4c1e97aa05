from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import auth
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from .backends import signing_in_with
from .sessions import SessionStore


def _get_user(request: HttpRequest) -> Any:
    """Django's ``get_user`` (the backend, the session's password hash, an inactive user:
    all checked as Django does), with the user's row taken from the session's read when
    the session brought it (``accounts.backends.ModelBackend``)."""
    session = request.session
    token = signing_in_with.set(session if isinstance(session, SessionStore) else None)
    try:
        return auth.get_user(request)
    finally:
        signing_in_with.reset(token)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the signed-in user read in the same statement as the session."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _get_user(request))  # type: ignore[assignment]


class UserLanguageMiddleware:
    """Speak the signed-in user's chosen language on every device they use.

    LocaleMiddleware has already picked a language from the URL, cookie or browser; a
    language saved on the user wins over those, so a manager who chose Portuguese keeps it
    on the office PC and on the tablet alike.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = getattr(request.user, "language", "") if hasattr(request, "user") else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
