"""Writes to users: the one place that creates users and changes their settings."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Role, User


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
