"""Reads of clients, scoped to what the user may see.

``clients_visible_to`` is the one place that decides which clients a user may see;
every page, endpoint and selector of client data starts from it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Role, User
from clients.models import (
    AuditEvent,
    Client,
    Engagement,
    PastExperience,
    Phase,
    Stakeholder,
    TimelineEntry,
)


def clients_visible_to(user: Any) -> QuerySet[Client]:
    """Directors and administrators see every client; an account manager sees the clients
    they own or are a team member of; anyone else sees none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Client.objects.none()
    if user.sees_whole_portfolio:
        return Client.objects.all()
    membership = Client.team_members.through.objects.filter(
        client_id=OuterRef("pk"), user_id=user.pk
    )
    return Client.objects.filter(Q(owner_id=user.pk) | Exists(membership))


def portfolio_summary(*, user: Any) -> dict[str, Any]:
    """Counts for the home page: active clients and engagements per phase, in two queries."""
    clients = clients_visible_to(user)
    client_counts = clients.aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(is_active=True))
    )
    by_phase = dict(
        Engagement.objects.filter(client__in=clients.filter(is_active=True))
        .values_list("phase")
        .annotate(n=Count("pk"))
        .values_list("phase", "n")
    )
    return {
        "clients": client_counts["total"],
        "active_clients": client_counts["active"],
        "phases": [(label, by_phase.get(value, 0)) for value, label in Phase.choices],
    }


def engagements_visible_to(user: Any) -> QuerySet[Engagement]:
    return Engagement.objects.filter(client__in=clients_visible_to(user))


def stakeholders_visible_to(user: Any) -> QuerySet[Stakeholder]:
    return Stakeholder.objects.filter(client__in=clients_visible_to(user))


def past_experiences_visible_to(user: Any) -> QuerySet[PastExperience]:
    return PastExperience.objects.filter(client__in=clients_visible_to(user))


def timeline_entries_visible_to(user: Any) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(client__in=clients_visible_to(user))


def client_list(*, user: Any) -> QuerySet[Client]:
    """Clients for a list (page or API): owner joined, engagements counted, one query."""
    return (
        clients_visible_to(user)
        .select_related("owner")
        .annotate(
            engagement_count=Count("engagements", distinct=True),
        )
    )


def client_history(*, client: Client, limit: int = 50) -> list[AuditEvent]:
    return list(client.audit_events.select_related("actor").order_by("-at", "-id")[:limit])


def account_managers() -> QuerySet[User]:
    """Who may own a client: active account managers."""
    return User.objects.filter(is_active=True, role=Role.ACCOUNT_MANAGER).order_by(
        "first_name", "last_name", "username"
    )


def team_candidates() -> QuerySet[User]:
    """Who may join a client's team: active account managers and directors."""
    return User.objects.filter(
        is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.DIRECTOR]
    ).order_by("first_name", "last_name", "username")
