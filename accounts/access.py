"""Role-based access helpers shared by the browser views and the API.

One vocabulary for "who may do this" across the product: a decorator and a mixin for
views, a DRF permission for viewsets, and ``user_has_role`` for templates and services.
Row-level scoping (which clients a user may see) lives with each app's selectors; this
module only answers questions about the user's role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from rest_framework.permissions import BasePermission

from accounts.models import Role, User


class AuthenticatedHttpRequest(HttpRequest):
    """The request type of views behind ``login_required``: ``user`` is a real User."""

    user: User


def user_has_role(user: Any, roles: Iterable[str]) -> bool:
    """True when ``user`` is signed in, active and holds one of ``roles``.

    Superusers count as administrators, so an operator made with ``createsuperuser`` can
    always manage the site.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = set(roles)
    if user.is_superuser and Role.ADMINISTRATOR in roles:
        return True
    return user.role in roles


def role_required[R: HttpResponseBase](
    *roles: str,
) -> Callable[[Callable[..., R]], Callable[..., R | HttpResponseRedirect]]:
    """View decorator: anonymous users go to the login page, the wrong role gets 403."""

    def decorator(view: Callable[..., R]) -> Callable[..., R | HttpResponseRedirect]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> R | HttpResponseRedirect:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not user_has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class RoleRequiredMixin(AccessMixin):
    """Class-based view mixin: set ``allowed_roles``; the wrong role gets 403."""

    allowed_roles: tuple[str, ...] = ()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not user_has_role(request.user, self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class HasRole(BasePermission):
    """DRF permission: subclass with ``allowed_roles`` or use :func:`has_role`."""

    allowed_roles: tuple[str, ...] = ()

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_role(request.user, self.allowed_roles)


def has_role(*roles: str) -> type[HasRole]:
    """Build a DRF permission class for the given roles: ``permission_classes=[has_role(...)]``."""
    return type("HasRole", (HasRole,), {"allowed_roles": tuple(roles)})


DIRECTORS = (Role.DIRECTOR, Role.ADMINISTRATOR)
ADMINISTRATORS = (Role.ADMINISTRATOR,)
EVERYONE = (Role.ACCOUNT_MANAGER, Role.DIRECTOR, Role.ADMINISTRATOR)
