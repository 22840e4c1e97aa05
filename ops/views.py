"""Health endpoints (django-health-check) and the Prometheus scrape endpoint."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from ops.metrics import ProductCollector


class HealthView(HealthCheckView):
    """django-health-check's view, answering 503 (the status load balancers and
    orchestrators read as "not now") instead of 500 when a check fails."""

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = await super().get(request, *args, **kwargs)
        if response.status_code == 500:
            response.status_code = 503
        return response


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: django-prometheus's request/DB figures (summed over every
    gunicorn process when PROMETHEUS_MULTIPROC_DIR is set) and the product's own, read
    from the database at scrape time.

    With METRICS_TOKEN set, a scrape must send ``Authorization: Bearer <token>``; without
    it the endpoint exists only when DEBUG is on.
    """
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not constant_time_compare(sent, token):
            return HttpResponse(
                "A bearer token is required.\n", status=401, content_type="text/plain"
            )
    elif not settings.DEBUG:
        raise Http404
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Everything())
    registry.register(ProductCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class _Everything:
    """This process's default registry, as one collector of a scrape's registry."""

    def collect(self) -> Any:
        return REGISTRY.collect()
