"""Single sign-on with OpenID Connect (mozilla-django-oidc): Microsoft Entra ID, Google
Workspace, Keycloak or any certified provider.

A user is matched by a **verified** e-mail address (case ignored) or created, with the role
the provider's ``OIDC_ROLE_CLAIM`` maps to (``OIDC_ROLE_MAP``), else ``OIDC_DEFAULT_ROLE``
for a new user; an existing user keeps their role unless the claim names one. With
``OIDC_DISABLE_PASSWORD`` a user who signed in through the provider loses their password
here: from then on only the provider signs them in (and its own second factor applies).
Off unless ``OIDC_CLIENT_ID`` is set; then the sign-in page offers the provider's button.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.backends import ModelBackend
from accounts.models import Role, User


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def role_from_claims(claims: dict[str, Any]) -> str | None:
    """The role the provider's claim maps to (the highest, when it names several)."""
    value = claims.get(settings.OIDC_ROLE_CLAIM)
    names = value if isinstance(value, list) else [value] if value else []
    roles = {
        settings.OIDC_ROLE_MAP[str(name)] for name in names if str(name) in settings.OIDC_ROLE_MAP
    }
    for role in (Role.ADMINISTRATOR, Role.DIRECTOR, Role.ACCOUNT_MANAGER):
        if role in roles:
            return role
    return None


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the product's rules for matching and roles."""

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        # Matching by an address the provider has not verified would let anyone who can
        # type a colleague's address at the provider become that colleague here.
        return bool(claims.get("email")) and claims.get("email_verified") is True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[User]:
        return User.objects.filter(email__iexact=claims["email"].strip())

    def create_user(self, claims: dict[str, Any]) -> User:
        user = User(
            username=self._free_username(claims),
            email=claims["email"].strip(),
            first_name=str(claims.get("given_name", ""))[:150],
            last_name=str(claims.get("family_name", ""))[:150],
            role=role_from_claims(claims) or settings.OIDC_DEFAULT_ROLE,
        )
        user.set_unusable_password()
        user.is_staff = user.role == Role.ADMINISTRATOR
        user.save()
        return user

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        role = role_from_claims(claims)
        if role is not None:
            user.role = role
            user.is_staff = role == Role.ADMINISTRATOR
        user.first_name = str(claims.get("given_name", user.first_name))[:150]
        user.last_name = str(claims.get("family_name", user.last_name))[:150]
        if settings.OIDC_DISABLE_PASSWORD:
            user.set_unusable_password()
        user.save()
        return user

    def get_user(self, user_id: Any) -> User | None:
        # Every request of an SSO session reads its user: the same prepared read as the
        # password backend's.
        return ModelBackend().get_user(user_id)

    @staticmethod
    def _free_username(claims: dict[str, Any]) -> str:
        wanted = str(claims.get("preferred_username") or claims["email"]).strip()[:140]
        candidate, n = wanted, 1
        while User.objects.filter(username__iexact=candidate).exists():
            n += 1
            candidate = f"{wanted}-{n}"
        return candidate


class _OnlyWhenEnabled:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class SSOStart(_OnlyWhenEnabled, OIDCAuthenticationRequestView):
    """Sends the browser to the provider (404 while single sign-on is off)."""

    def __init__(self, **kwargs: Any) -> None:
        # mozilla-django-oidc reads its settings when the view is made, before dispatch
        # could say single sign-on is off.
        if sso_enabled():
            super().__init__(**kwargs)


class SSOCallback(_OnlyWhenEnabled, OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back."""
