"""Reads of webhooks: endpoints with what their list shows, and an endpoint's log."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from webhooks.models import Attempt, Delivery, DeliveryState, Endpoint


def endpoint_list() -> QuerySet[Endpoint]:
    """Every endpoint, with its pending and failed deliveries counted and its last attempt's
    time (one query)."""
    return Endpoint.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
        gave_up=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
        last_attempt_at=Subquery(
            Attempt.objects.filter(endpoint=OuterRef("pk"))
            .order_by("-started_at", "-id")
            .values("started_at")[:1]
        ),
    ).order_by("url", "id")


def attempts_of(endpoint: Endpoint) -> QuerySet[Attempt]:
    """The endpoint's delivery log, newest first, with each attempt's event."""
    return (
        Attempt.objects.filter(endpoint=endpoint)
        .select_related("delivery__event")
        .order_by("-started_at", "-id")
    )


def deliveries_of(endpoint: Endpoint) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-id")
    )
