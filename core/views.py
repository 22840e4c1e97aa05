from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from clients.selectors import portfolio_summary
from core.models import Heartbeat


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in landing page: what the user's portfolio holds at a glance."""
    from education.selectors import my_week

    return render(
        request,
        "core/home.html",
        {"summary": portfolio_summary(user=request.user), "week": my_week(user=request.user)},
    )


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and docker-compose: database reachable, worker heartbeat.

    Answers 200 while the database answers; the worker's last heartbeat is reported, not
    required, so a web container is not restarted because a worker is down.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # a health check reports failures instead of raising them
        database = "unavailable"
    last = Heartbeat.objects.order_by("-last_seen").first() if database == "ok" else None
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "worker_last_seen": last.last_seen.isoformat() if last else None,
        "worker_seconds_ago": (
            round((timezone.now() - last.last_seen).total_seconds()) if last else None
        ),
    }
    return JsonResponse(body, status=200 if database == "ok" else 503)
