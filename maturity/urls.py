from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import defaults
from django.views.generic import RedirectView

from accounts import oidc
from accounts.models import SecurityEventKind
from accounts.services import security_event_record
from api.errors import api_bad_request, api_not_found, api_server_error
from clients import urls as clients_urls
from ops import views as ops_views
from web import client_urls

admin.site.site_header = "Maturity"
admin.site.site_title = "Maturity"

urlpatterns = [
    path("", include("web.urls")),
    path("accounts/", include("accounts.urls")),
    # Single sign-on (accounts/oidc.py): the names are mozilla-django-oidc's.
    path("oidc/authenticate/", oidc.SSOStart.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.SSOCallback.as_view(), name="oidc_authentication_callback"),
    # Before the client page's, whose section pattern would take "<pk>/report/".
    path("clients/", include("dashboards.report_urls")),
    # The clients app's pages and the client page (web, above the apps it composes): one
    # namespace, so every page names them clients:…
    path("clients/", include((clients_urls.urlpatterns + client_urls.urlpatterns, "clients"))),
    path("", include("assessments.urls")),
    path("education/", include("education.urls")),
    path("dashboard/", include("dashboards.urls")),
    path("integrations/webhooks/", include("webhooks.urls")),
    # A client respondent's personal link (voice/views.py): short, as it is typed from
    # an e-mail now and then.
    path("r/", include("voice.urls")),
    path("api/", include("maturity.api_urls")),
    # One way in: the admin's own sign-in form would skip the lockout page, the second
    # factor and single sign-on, so it sends people to the product's.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
        name="admin-login",
    ),
    path("admin/", admin.site.urls),
    path("health/", include("ops.urls")),
    path("metrics", ops_views.metrics, name="metrics"),
]


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(
    request: HttpRequest, exception: Exception, *args: Any, **kwargs: Any
) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler400(
    request: HttpRequest, exception: Exception, *args: Any, **kwargs: Any
) -> HttpResponse:
    """A request Django refuses before any view (a body over the upload limit, too many
    fields, a NUL in the query): the API's error shape under /api/."""
    if _is_api(request):
        return api_bad_request(request)
    return defaults.bad_request(request, exception)


def handler403(
    request: HttpRequest, exception: Exception, *args: Any, **kwargs: Any
) -> HttpResponse:
    """A page refused to the signed-in user: recorded in the security log. (The API's
    refusals are recorded by its exception handler.)"""
    security_event_record(kind=SecurityEventKind.PERMISSION_DENIED, request=request)
    return defaults.permission_denied(request, exception)


def handler500(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if _is_api(request):
        return api_server_error(request)
    return defaults.server_error(request)
