"""Reads of clients, scoped to what the user may see.

``clients_visible_to`` is the one place that decides which clients a user may see;
every page, endpoint and selector of client data starts from it.
"""

from __future__ import annotations

import enum
from types import SimpleNamespace
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
from core.privacy import mentions, stakeholder_rows
from core.sql import Columns, Reused


def visible_through(user: Any, path: str = "") -> Q:
    """The rule, as a filter on any row that reaches its client by ``path`` ("" for the
    clients themselves, "client", "engagement__client"): directors and administrators see
    every client; an account manager sees the clients they own or are a team member of;
    anyone else sees none.

    It tests the row's own client — its owner, and one probe of the team's unique index —
    so looking up one engagement or assessment costs a few index reads whatever the
    portfolio's size, where ``client__in=<every visible client>`` had PostgreSQL hash the
    whole set of them first (about 2 ms at 10,000 clients, on every autosave)."""
    audience = audience_of(user)
    if audience is Audience.NO_ONE:
        return Q(pk__in=[])
    if audience is Audience.WHOLE_PORTFOLIO:
        return Q()
    membership = Client.team_members.through.objects.filter(
        client_id=OuterRef(path or "pk"), user_id=user.pk
    )
    owned = Q(**{f"{path}__owner_id" if path else "owner_id": user.pk})
    return owned | Q(Exists(membership))


class Audience(enum.Enum):
    """What visible_through's filter depends on besides the user's id: users of one
    audience get the same SQL with their own id in it (a compiled-once read, see
    core.sql.Reused, is keyed by it)."""

    NO_ONE = "no one"
    WHOLE_PORTFOLIO = "whole portfolio"
    OWN_AND_TEAM = "own and team"


def audience_of(user: Any) -> Audience:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Audience.NO_ONE
    if user.sees_whole_portfolio:
        return Audience.WHOLE_PORTFOLIO
    return Audience.OWN_AND_TEAM


def stand_in_for(audience: Audience, pk: int) -> Any:
    """A user of ``audience`` with the id ``pk``, for visible_through to compile the
    rule for every user of that audience (core.sql.Reused)."""
    return SimpleNamespace(
        is_authenticated=audience is not Audience.NO_ONE,
        is_active=audience is not Audience.NO_ONE,
        sees_whole_portfolio=audience is Audience.WHOLE_PORTFOLIO,
        pk=pk,
    )


# The scoping rule as a subquery of the engagement ids in sight (``id IN (…)``), for a
# statement written by hand (a new draft's insert), compiled once per kind of user.
VISIBLE_ENGAGEMENT_ID = Reused(
    lambda audience, user, engagement: (
        engagements_visible_to(stand_in_for(audience, user))
        .filter(pk=engagement)
        .order_by()
        .values_list("pk")
    ),
    "user",
    "engagement",
)
_ENGAGEMENT, _CLIENT = Columns(Engagement), Columns(Client)
_VISIBLE_ENGAGEMENT = Reused(
    lambda audience, user, engagement: (
        engagements_visible_to(stand_in_for(audience, user))
        .filter(pk=engagement)
        .values_list(*_ENGAGEMENT.names(), *_CLIENT.names("client__"))
    ),
    "user",
    "engagement",
)


def engagement_visible(user: Any, pk: int) -> Engagement | None:
    """The engagement ``pk`` with its client, if ``user`` may see it; otherwise None. One
    prepared statement (an API create or import names its engagement on every call)."""
    audience = audience_of(user)
    if audience is Audience.NO_ONE:
        return None
    rows = _VISIBLE_ENGAGEMENT.rows(audience, user=user.pk, engagement=pk)
    if not rows:
        return None
    engagement = _ENGAGEMENT.of(rows[0][: _ENGAGEMENT.width])
    Engagement.client.field.set_cached_value(engagement, _CLIENT.of(rows[0][_ENGAGEMENT.width :]))
    return engagement


def people_who_see(client: Client) -> QuerySet[User]:
    """The active users who may see ``client`` — visible_through read the other way:
    directors, administrators and superusers, its owner and its team. One query."""
    return User.objects.filter(is_active=True).filter(
        Q(role__in=(Role.DIRECTOR, Role.ADMINISTRATOR))
        | Q(is_superuser=True)
        | Q(pk=client.owner_id)
        | Q(pk__in=client.team_members.values("pk"))
    )


def clients_visible_to(user: Any) -> QuerySet[Client]:
    """The clients ``user`` may see (see visible_through)."""
    return Client.objects.filter(visible_through(user))


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
    return Engagement.objects.filter(visible_through(user, "client"))


def stakeholders_visible_to(user: Any) -> QuerySet[Stakeholder]:
    return Stakeholder.objects.filter(visible_through(user, "client"))


def past_experiences_visible_to(user: Any) -> QuerySet[PastExperience]:
    return PastExperience.objects.filter(visible_through(user, "client"))


def timeline_entries_visible_to(user: Any) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(visible_through(user, "client"))


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


def stakeholder_personal_data(stakeholder: Stakeholder) -> dict[str, Any]:
    """Everything held about one stakeholder: their row, and every row of their client's
    free text that mentions their name, e-mail or phone (core.privacy's places)."""
    return {
        "stakeholder": {
            "id": stakeholder.pk,
            "client": {"id": stakeholder.client_id, "name": stakeholder.client.name},
            "name": stakeholder.name,
            "role": stakeholder.role,
            "email": stakeholder.email,
            "phone": stakeholder.phone,
            "influence": stakeholder.influence,
            "stance": stakeholder.stance,
            "notes": stakeholder.notes,
        },
        "mentions": mentions(
            stakeholder.client_id, [stakeholder.name, stakeholder.email, stakeholder.phone]
        ),
        "held": stakeholder_rows(stakeholder.pk),
    }
