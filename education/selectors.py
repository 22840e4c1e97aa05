"""Reads of education data, scoped to what the user may see.

Every list starts from ``actions_visible_to``, which starts from the clients scope
(``clients_visible_to``): an account manager sees the plans of their clients, directors all.
Aggregates (progress, uplift, effort) are computed in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from assessments.selectors import default_questionnaire, questions_by_id
from clients.models import Client
from clients.selectors import clients_visible_to
from education.models import ActionStatus, EducationAction, Notification, Playbook


def actions_visible_to(user: Any) -> QuerySet[EducationAction]:
    return EducationAction.objects.filter(client__in=clients_visible_to(user))


def action_list(*, user: Any) -> QuerySet[EducationAction]:
    """Actions for a list (page or API): everything a row shows, in one query."""
    return actions_visible_to(user).select_related(
        "client", "engagement", "owner", "template", "completed_by"
    )


@dataclass(frozen=True)
class Agenda:
    overdue: list[EducationAction]
    this_week: list[EducationAction]
    later: list[EducationAction]
    recently_closed: list[EducationAction]

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.this_week or self.later)


def agenda(*, user: Any, owner: Any = None, today: date | None = None, limit: int = 200) -> Agenda:
    """The open actions of ``owner`` (the user by default): overdue, due within a week,
    later; and what was closed in the last two weeks. Two queries."""
    today = today or timezone.localdate()
    owner = owner or user
    rows = list(
        action_list(user=user)
        .filter(owner=owner, status=ActionStatus.PLANNED)
        .order_by("due_date", "id")[:limit]
    )
    week_end = today + timedelta(days=7)
    closed = list(
        action_list(user=user)
        .filter(owner=owner, completed_at__gte=timezone.now() - timedelta(days=14))
        .exclude(status=ActionStatus.PLANNED)
        .order_by("-completed_at", "-id")[:20]
    )
    return Agenda(
        overdue=[a for a in rows if a.due_date < today],
        this_week=[a for a in rows if today <= a.due_date <= week_end],
        later=[a for a in rows if a.due_date > week_end],
        recently_closed=closed,
    )


def my_week(*, user: Any) -> dict[str, int]:
    """The home page's nudge: the user's open actions overdue and due this week. One query."""
    today = timezone.localdate()
    return EducationAction.objects.filter(owner=user, status=ActionStatus.PLANNED).aggregate(
        overdue=Count("pk", filter=Q(due_date__lt=today)),
        this_week=Count(
            "pk", filter=Q(due_date__gte=today, due_date__lte=today + timedelta(days=7))
        ),
    )


def client_plan(*, client: Client) -> dict[str, Any]:
    """The client page's plan: every action by engagement, with progress and uplift."""
    actions = list(
        EducationAction.objects.filter(client=client)
        .select_related("owner", "template", "engagement")
        .order_by("due_date", "id")
    )
    today = timezone.localdate()
    by_engagement: dict[int, list[EducationAction]] = {}
    for action in actions:
        by_engagement.setdefault(action.engagement_id, []).append(action)
    groups = []
    for engagement_actions in by_engagement.values():
        total = len(engagement_actions)
        done = sum(a.status == ActionStatus.DONE for a in engagement_actions)
        skipped = sum(a.status == ActionStatus.SKIPPED for a in engagement_actions)
        measured = [a for a in engagement_actions if a.uplift is not None]
        groups.append(
            {
                "engagement": engagement_actions[0].engagement,
                "open_actions": [a for a in engagement_actions if a.is_open],
                "closed_actions": sorted(
                    (a for a in engagement_actions if not a.is_open),
                    key=lambda a: a.completed_at or timezone.now(),
                    reverse=True,
                ),
                "total": total,
                "done": done,
                "skipped": skipped,
                "open": total - done - skipped,
                "overdue": sum(a.is_open and a.due_date < today for a in engagement_actions),
                "progress": round(100 * (done + skipped) / total) if total else 0,
                "measured": len(measured),
                "uplift": (
                    round(
                        sum(a.uplift for a in measured if a.uplift is not None) / len(measured), 1
                    )
                    if measured
                    else None
                ),
            }
        )
    return {"groups": groups, "total": len(actions)}


def uplift_by_action_type(*, clients: QuerySet[Client] | None = None) -> list[dict[str, Any]]:
    """Average uplift per action type across the portfolio (or ``clients``): only actions
    whose effect was measured by a later assessment count. One query."""
    rows = EducationAction.objects.filter(uplift__isnull=False)
    if clients is not None:
        rows = rows.filter(client__in=clients)
    return [
        dict(row)
        for row in rows.values("action_type")
        .annotate(
            measured=Count("pk"),
            average_uplift=Avg("uplift"),
            average_maturity_change=Avg("maturity_delta"),
            average_defensiveness_change=Avg("defensiveness_delta"),
        )
        .order_by("-average_uplift", "action_type")
    ]


def portfolio_effort(
    *, now: datetime | None = None, clients: QuerySet[Client] | None = None
) -> dict[str, Any]:
    """The education effort in figures, for the digest and the dashboards. One query."""
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    rows = EducationAction.objects.all()
    if clients is not None:
        rows = rows.filter(client__in=clients)
    figures = rows.aggregate(
        open=Count("pk", filter=Q(status=ActionStatus.PLANNED)),
        overdue=Count("pk", filter=Q(status=ActionStatus.PLANNED, due_date__lt=today)),
        escalated=Count("pk", filter=Q(escalated_at__gte=moment - timedelta(days=7))),
        done_week=Count(
            "pk",
            filter=Q(status=ActionStatus.DONE, completed_at__gte=moment - timedelta(days=7)),
        ),
        due_next_week=Count(
            "pk",
            filter=Q(
                status=ActionStatus.PLANNED,
                due_date__gte=today,
                due_date__lte=today + timedelta(days=7),
            ),
        ),
        done=Count("pk", filter=Q(status=ActionStatus.DONE)),
        closed_or_due=Count("pk", filter=~Q(status=ActionStatus.PLANNED) | Q(due_date__lt=today)),
    )
    due = figures.pop("closed_or_due")
    figures["completion_rate"] = round(100 * figures["done"] / due) if due else 0
    return figures


def notifications_of(user: Any) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_count(user: Any) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def playbooks() -> QuerySet[Playbook]:
    return Playbook.objects.select_related("questionnaire").prefetch_related(
        "templates", "rules__template"
    )


def dimension_names() -> dict[str, Any]:
    """Dimension codes → names (three languages) of the default questionnaire's current
    version, from the per-process cache of published versions."""
    questionnaire = default_questionnaire()
    version = questionnaire.current_version() if questionnaire else None
    if version is None:
        return {}
    return {q.dimension.code: q.dimension.name for q in questions_by_id(version).values()}
