from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import DIRECTORS, role_required
from accounts.filters import FILTERS, SecurityEventFilter
from accounts.models import SecurityEvent, SecurityEventKind, User
from accounts.oidc import sso_enabled
from accounts.selectors import security_event_json, user_personal_data
from accounts.services import security_event_record, user_set_language
from accounts.two_factor import has_two_factor, two_factor_required
from accounts.two_factor_views import start_second_step
from core.downloads import json_download
from core.htmx import is_htmx


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """What django-axes answers to a sign-in while the username or the IP is locked out
    (settings.AXES_LOCKOUT_CALLABLE): 429, a translated page saying for how long, and
    ``Retry-After`` in seconds."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    response = render(
        request,
        "accounts/locked_out.html",
        {"minutes": max(1, round(seconds / 60)), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso_name"] = settings.OIDC_PROVIDER_NAME if sso_enabled() else ""
        context["sso_failed"] = self.request.GET.get("sso") == "failed"
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        """The right password signs in, unless a second step is due: the user has an
        authenticator, or must have one (TWO_FACTOR_REQUIRED)."""
        user = form.get_user()
        if has_two_factor(user) or two_factor_required(user):
            return start_second_step(self.request, user, self.get_success_url())
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):
        messages.success(self.request, _("Your password was changed."))
        return super().form_valid(form)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the user and in a cookie.

    Unlike Django's own view, a signed-in user's choice is stored on their account so it
    follows them to every device.
    """
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language and check_for_language(language) and language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            user_set_language(user=request.user, language=language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


# --- The security log (directors) ---------------------------------------------------------

SECURITY_LOG_PAGE_SIZE = 50


def _filters_in_force(request: HttpRequest) -> list[tuple[str, str]]:
    return [(key, request.GET[key]) for key in FILTERS if request.GET.get(key)]


def _security_events(request: HttpRequest) -> SecurityEventFilter:
    return SecurityEventFilter(request.GET, queryset=SecurityEvent.objects.select_related("user"))


@role_required(*DIRECTORS)
@require_GET
def security_log(request: HttpRequest) -> HttpResponse:
    """Sign-ins, failures, lockouts, tokens, refusals, exports and erasures: filtered,
    newest first, paged."""
    events = _security_events(request)
    page = Paginator(
        events.qs if events.is_valid() else SecurityEvent.objects.none(), SECURITY_LOG_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    query = urlencode(_filters_in_force(request))
    context = {
        "filter": events,
        "page": page,
        "query": query,
        "filtered": bool(query),
    }
    template = (
        "accounts/security_log.html#results" if is_htmx(request) else "accounts/security_log.html"
    )
    return render(request, template, context)


@role_required(*DIRECTORS)
@require_GET
def security_log_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered log as JSON lines (one event an object a line, oldest first, as a log
    is read), streamed; the export is itself recorded."""
    events = _security_events(request)
    if not events.is_valid():
        return render(
            request,
            "accounts/security_log.html",
            {"filter": events, "page": None, "query": "", "filtered": True},
            status=400,
        )
    security_event_record(
        kind=SecurityEventKind.EXPORT,
        request=request,
        export="security_log.jsonl",
        filters=dict(_filters_in_force(request)),
    )
    rows = events.qs.order_by("at", "id")
    response = StreamingHttpResponse(
        (
            json.dumps(security_event_json(event), ensure_ascii=False) + "\n"
            for event in rows.iterator(chunk_size=2000)
        ),
        content_type="application/jsonl; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="maturity-security-log-{stamp}.jsonl"'
    return response


@role_required(*DIRECTORS)
@require_GET
def user_data_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything held about one user, as JSON (a subject's access request); recorded."""
    person = get_object_or_404(User, pk=pk)
    security_event_record(
        kind=SecurityEventKind.EXPORT, request=request, export="user.json", subject=person.pk
    )
    return json_download(user_personal_data(person), f"user-{person.pk}-personal-data.json")
