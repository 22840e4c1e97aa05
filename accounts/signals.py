"""Sign-ins, sign-in failures, lockouts and sign-outs written to the security log, from
Django's and django-axes' signals (connected in AccountsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts.models import SecurityEventKind
from accounts.services import security_event_record


def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # The second factor, when there was one (accounts.two_factor_views sets it).
    how = getattr(request, "second_factor", None)
    detail: dict[str, Any] = {"second_factor": how} if how else {}
    if getattr(user, "backend", "").endswith(".OIDCBackend"):
        detail["via"] = "sso"
    security_event_record(kind=SecurityEventKind.LOGIN, request=request, user=user, **detail)


def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        security_event_record(kind=SecurityEventKind.LOGOUT, request=request, user=user)


def login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Django has already masked the password in ``credentials``; only the name is kept.
    security_event_record(
        kind=SecurityEventKind.LOGIN_FAILED,
        request=request,
        username=str(credentials.get("username") or ""),
    )


def locked_out(
    sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    security_event_record(
        kind=SecurityEventKind.LOCKED_OUT,
        request=request,
        username=username or "",
        failures=settings.AXES_FAILURE_LIMIT,
    )
