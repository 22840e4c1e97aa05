"""Webhook endpoints in the browser, for directors and administrators: list, add, change,
delete, rotate the secret (shown once), send a test event, the delivery log, replays."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import DIRECTORS, AuthenticatedHttpRequest, role_required
from core.forms import attach_errors
from webhooks import services
from webhooks.events import EVENT_TYPES
from webhooks.forms import EndpointForm, ReplayForm
from webhooks.models import Delivery, DeliveryState, Endpoint
from webhooks.selectors import attempts_of, endpoint_list

LOG_PAGE_SIZE = 50
# Where a new or rotated secret waits, in the session, for the one page that shows it.
_SECRET = "webhooks.secret.{}"


def _keep_secret_for_once(request: HttpRequest, endpoint: Endpoint, secret: str) -> None:
    request.session[_SECRET.format(endpoint.pk)] = secret


@role_required(*DIRECTORS)
@require_GET
def endpoint_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "webhooks/list.html",
        {"endpoints": endpoint_list(), "event_types": EVENT_TYPES},
    )


@role_required(*DIRECTORS)
def endpoint_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(by=request.user, **form.service_fields())
        except ValidationError as error:
            attach_errors(form, error)
        else:
            _keep_secret_for_once(request, endpoint, endpoint.secret)
            messages.success(request, _("Endpoint added. Copy its signing secret now."))
            return redirect("webhooks:detail", pk=endpoint.pk)
    return render(request, "webhooks/form.html", {"form": form, "endpoint": None})


@role_required(*DIRECTORS)
def endpoint_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, by=request.user, **form.service_fields())
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("webhooks:detail", pk=endpoint.pk)
    return render(request, "webhooks/form.html", {"form": form, "endpoint": endpoint})


def _detail(
    request: HttpRequest, endpoint: Endpoint, replay_form: ReplayForm, status: int = 200
) -> HttpResponse:
    """The endpoint's page: what it is, its secret if just made (once), its log."""
    page = Paginator(attempts_of(endpoint), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "secret": request.session.pop(_SECRET.format(endpoint.pk), None),
        "page": page,
        "waiting": endpoint.deliveries.filter(state=DeliveryState.PENDING).count(),
        "replay_form": replay_form,
        "event_types": [EVENT_TYPES[name] for name in endpoint.event_types if name in EVENT_TYPES],
        "grace_hours": settings.WEBHOOK_SECRET_GRACE_HOURS,
    }
    return render(request, "webhooks/detail.html", context, status=status)


@role_required(*DIRECTORS)
@require_GET
def endpoint_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_object_or_404(Endpoint, pk=pk), ReplayForm())


@role_required(*DIRECTORS)
@require_POST
def endpoint_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.endpoint_delete(endpoint=endpoint, by=request.user)
    messages.success(request, _("Endpoint deleted: %(url)s") % {"url": endpoint.url})
    return redirect("webhooks:list")


@role_required(*DIRECTORS)
@require_POST
def endpoint_rotate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    secret = services.endpoint_secret_rotate(endpoint=endpoint, by=request.user)
    _keep_secret_for_once(request, endpoint, secret)
    messages.success(request, _("New signing secret made. Copy it now."))
    return redirect("webhooks:detail", pk=endpoint.pk)


@role_required(*DIRECTORS)
@require_POST
def endpoint_test(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    try:
        services.endpoint_test(endpoint=endpoint, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Test event queued: its attempt appears in the log below in a moment.")
        )
    return redirect("webhooks:detail", pk=endpoint.pk)


@role_required(*DIRECTORS)
@require_POST
def endpoint_replay(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    form = ReplayForm(request.POST)
    if form.is_valid():
        try:
            count = services.endpoint_replay_since(
                endpoint=endpoint, since=form.cleaned_data["since"], by=request.user
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            queued = ngettext(
                "%(count)s event queued again.", "%(count)s events queued again.", count
            )
            messages.success(request, queued % {"count": count})
            return redirect("webhooks:detail", pk=endpoint.pk)
    return _detail(request, endpoint, form, status=400)


@role_required(*DIRECTORS)
@require_POST
def delivery_replay(request: AuthenticatedHttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=delivery_pk, endpoint_id=pk)
    services.delivery_replay(delivery=delivery, by=request.user)
    messages.success(request, _("Delivery queued again."))
    return redirect("webhooks:detail", pk=pk)
