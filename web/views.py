from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clients.selectors import portfolio_summary
from education.selectors import my_week


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in landing page: what the user's portfolio holds at a glance."""
    return render(
        request,
        "web/home.html",
        {"summary": portfolio_summary(user=request.user), "week": my_week(user=request.user)},
    )
