"""Writes to users — the one place that creates users and changes their settings — and to
the security log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import Role, SecurityEvent, User
from core.network import client_ip


def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a user with a role; administrators may use the admin site."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    user = User(
        username=username,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=role == Role.ADMINISTRATOR,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean()
    user.save()
    return user


def user_set_language(*, user: User, language: str) -> None:
    """Remember the interface language a user chose (empty: follow the browser)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unsupported language.")})
    user.language = language
    user.save(update_fields=["language"])


_SIGNED_IN = object()


def security_event_record(
    *,
    kind: str,
    request: HttpRequest | None = None,
    user: Any = _SIGNED_IN,
    username: str = "",
    **detail: Any,
) -> SecurityEvent:
    """Write one security event. ``request`` gives the IP (by django-axes' rule, which knows
    the proxies in front: the address a lockout is keyed on), the user agent and the path;
    ``user`` defaults to the request's signed-in user (pass None for no one: asking an API
    request for its user while it authenticates would start again). ``detail`` holds ids
    and counts — never a password, a token or a stakeholder's name."""
    if user is _SIGNED_IN:
        signed_in = getattr(request, "user", None)
        user = signed_in if signed_in is not None and signed_in.is_authenticated else None
    if user is not None and not getattr(user, "pk", None):
        user = None
    event = SecurityEvent(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        detail=detail,
    )
    if request is not None:
        event.ip = client_ip(request)
        event.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
        event.path = request.path[:300]
    event.save()
    return event
