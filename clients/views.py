"""Browser pages for clients: the list, and creating, editing and archiving a client.

The client page (the client with its engagements, assessments and education) composes
several apps, so it lives on top of them, in ``web/client_page.py``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import DIRECTORS, AuthenticatedHttpRequest, role_required, user_has_role
from accounts.models import SecurityEventKind
from accounts.services import security_event_record
from clients import services
from clients.filters import ClientFilter
from clients.forms import (
    ClientForm,
)
from clients.models import Stakeholder
from clients.selectors import client_list as select_clients
from clients.selectors import clients_visible_to, stakeholder_personal_data, stakeholders_visible_to
from core.downloads import json_download
from core.forms import attach_errors
from core.htmx import is_htmx
from core.privacy import ERASED

LIST_PAGE_SIZE = 25


# --- The list -------------------------------------------------------------------------------


@login_required
def client_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    filterset = ClientFilter(
        request.GET, queryset=select_clients(user=request.user), request=request
    )
    clients = filterset.qs
    # Without a valid requested order (absent, or not one of the offered ones) the list
    # still needs a stable one, or pages would repeat and skip rows.
    if not filterset.form.is_valid() or not filterset.form.cleaned_data.get("ordering"):
        clients = clients.order_by("name", "id")
    page = Paginator(clients, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    context = {
        "filter": filterset,
        "page": page,
        "query": query,
        "filtered": any(v for k, v in request.GET.items() if k not in {"page", "ordering"}),
        "can_import": user_has_role(request.user, DIRECTORS),
    }
    template = "clients/list.html#results" if is_htmx(request) else "clients/list.html"
    return render(request, template, context)


# --- Create, edit, archive ------------------------------------------------------------------


@login_required
def client_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                by=request.user,
                team_members=form.cleaned_data["team_members"],
                **form.service_fields(),
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Client “%(name)s” created.") % {"name": client.name})
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/client_form.html", {"form": form, "client": None})


@login_required
def client_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(clients_visible_to(request.user), pk=pk)
    form = ClientForm(request.POST or None, instance=client, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                client=client,
                by=request.user,
                team_members=form.cleaned_data["team_members"],
                **form.service_fields(),
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/client_form.html", {"form": form, "client": client})


@login_required
@require_POST
def client_archive(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(clients_visible_to(request.user), pk=pk)
    if request.POST.get("restore"):
        services.client_restore(client=client, by=request.user)
        messages.success(request, _("Client restored to the active portfolio."))
    else:
        services.client_archive(client=client, by=request.user)
        messages.success(request, _("Client archived. Its history is kept."))
    return redirect("clients:detail", pk=client.pk)


# --- A stakeholder's personal data (directors) ------------------------------------------------


def _stakeholder(request: AuthenticatedHttpRequest, pk: int, stakeholder_pk: int) -> Stakeholder:
    return get_object_or_404(
        stakeholders_visible_to(request.user).select_related("client"),
        pk=stakeholder_pk,
        client_id=pk,
    )


@role_required(*DIRECTORS)
@require_GET
def stakeholder_data_export(
    request: AuthenticatedHttpRequest, pk: int, stakeholder_pk: int
) -> HttpResponse:
    """Everything held about one stakeholder, as JSON (a subject's access request)."""
    stakeholder = _stakeholder(request, pk, stakeholder_pk)
    security_event_record(
        kind=SecurityEventKind.EXPORT,
        request=request,
        export="stakeholder.json",
        stakeholder=stakeholder.pk,
        client=stakeholder.client_id,
    )
    return json_download(
        stakeholder_personal_data(stakeholder),
        f"stakeholder-{stakeholder.pk}-personal-data.json",
    )


@role_required(*DIRECTORS)
@require_POST
def stakeholder_data_erase(
    request: AuthenticatedHttpRequest, pk: int, stakeholder_pk: int
) -> HttpResponse:
    """Erase a stakeholder's personal data (the row stays, anonymous)."""
    stakeholder = _stakeholder(request, pk, stakeholder_pk)
    if stakeholder.name == ERASED:
        messages.info(request, _("This stakeholder's data was already erased."))
    else:
        rows = services.stakeholder_erase(stakeholder=stakeholder, by=request.user, request=request)
        messages.success(
            request,
            ngettext(
                "Personal data erased, and removed from %(n)d note that mentioned them.",
                "Personal data erased, and removed from %(n)d notes that mentioned them.",
                rows,
            )
            % {"n": rows},
        )
    return redirect(f"{reverse('clients:detail', args=[pk])}#section-stakeholders")
