from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.selectors import clients_visible_to


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    clients = clients_visible_to(request.user).select_related("owner").order_by("name", "id")
    page = Paginator(clients, 25).get_page(request.GET.get("page"))
    return render(request, "clients/list.html", {"page": page})
