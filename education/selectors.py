"""Reads of education data, scoped to what the user may see.

Every list starts from ``actions_visible_to``, which starts from the clients scope
(``clients_visible_to``): an account manager sees the plans of their clients, directors all.
Aggregates (progress, uplift, effort) are computed in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from assessments.selectors import default_questionnaire, questions_by_id
from clients.models import Client
from clients.selectors import clients_visible_to
from education.channels.email import Email
from education.models import (
    ActionStatus,
    Delivery,
    EducationAction,
    Notification,
    NotificationKind,
    Playbook,
)


def actions_visible_to(user: Any) -> QuerySet[EducationAction]:
    return EducationAction.objects.filter(client__in=clients_visible_to(user))


def action_list(*, user: Any) -> QuerySet[EducationAction]:
    """Actions for a list (page or API): everything a row shows, in one query."""
    return actions_visible_to(user).select_related(
        "client", "engagement", "owner", "template", "completed_by"
    )


# The worklist's groups: which actions each holds, in the order a day's work reads them.
WHEN = ("overdue", "week", "later", "closed")
WORKLIST_PAGE_SIZE = 25
NEW_DAYS = 7  # an action planned this recently is marked new
CLOSED_DAYS = 14  # "closed" lists what was done or skipped this recently


@dataclass(frozen=True)
class Worklist:
    """One page of an owner's actions in one group, with every group's count and the
    clients that have actions to filter by."""

    when: str
    counts: dict[str, int]
    page: Any  # a Paginator page of EducationAction
    clients: list[tuple[int, str]]
    new_since: datetime

    @property
    def is_empty(self) -> bool:
        return not any(self.counts[w] for w in WHEN[:3])


def _when_q(today: date, since_closed: datetime) -> dict[str, Q]:
    open_ = Q(status=ActionStatus.PLANNED)
    week_end = today + timedelta(days=7)
    return {
        "overdue": open_ & Q(due_date__lt=today),
        "week": open_ & Q(due_date__gte=today, due_date__lte=week_end),
        "later": open_ & Q(due_date__gt=week_end),
        "closed": ~open_ & Q(completed_at__gte=since_closed),
    }


def worklist(
    *,
    user: Any,
    owner: Any = None,
    when: str = "",
    client: int | None = None,
    search: str = "",
    plan: int | None = None,
    page: int | str = 1,
    today: date | None = None,
) -> Worklist:
    """An owner's actions (the user's by default), narrowed by client, words in the
    title or the client's name, or the plan that made them; counted per group and one
    page of the group asked for (else the first group with something in it). A fixed
    number of queries, whatever the number of actions: the counts, the clients, the
    page's count and its rows."""
    today = today or timezone.localdate()
    now = timezone.now()
    groups = _when_q(today, now - timedelta(days=CLOSED_DAYS))
    base = actions_visible_to(user)
    base = base.filter(plan_id=plan) if plan else base.filter(owner=owner or user)
    narrowed = base
    if client:
        narrowed = narrowed.filter(client_id=client)
    if search:
        narrowed = narrowed.filter(Q(title__icontains=search) | Q(client__name__icontains=search))
    counts = narrowed.aggregate(**{w: Count("pk", filter=q) for w, q in groups.items()})
    if when not in WHEN:
        when = next((w for w in WHEN[:3] if counts[w]), "overdue")
    order = ("-completed_at", "-id") if when == "closed" else ("due_date", "id")
    rows = (
        narrowed.filter(groups[when])
        .select_related("client", "engagement", "owner", "template", "completed_by")
        .order_by(*order)
    )
    clients = list(
        base.filter(Q(status=ActionStatus.PLANNED) | groups["closed"])
        .order_by("client__name", "client_id")
        .values_list("client_id", "client__name")
        .distinct()
    )
    return Worklist(
        when=when,
        counts=counts,
        page=Paginator(rows, WORKLIST_PAGE_SIZE).get_page(page),
        clients=clients,
        new_since=now - timedelta(days=NEW_DAYS),
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


@dataclass(frozen=True)
class InvitationEmail:
    """The latest e-mail to a client's stakeholder about an invitation, as the relay left
    it."""

    reminder: bool
    state: str  # DeliveryState
    written_at: datetime
    sent_at: datetime | None
    error: str


def invitation_emails(invitation_ids: list[int]) -> dict[int, InvitationEmail]:
    """Each invitation's latest e-mail (the link, resent or reminded) and its delivery."""
    latest: dict[int, InvitationEmail] = {}
    rows = (
        Delivery.objects.filter(notification__invitation_id__in=invitation_ids, channel=Email.name)
        .order_by("notification__created_at", "notification_id")
        .values_list(
            "notification__invitation_id",
            "notification__kind",
            "state",
            "notification__created_at",
            "sent_at",
            "last_error",
        )
    )
    for invitation_id, kind, state, written_at, sent_at, error in rows:
        latest[invitation_id] = InvitationEmail(
            kind == NotificationKind.CLIENT_REMINDER, state, written_at, sent_at, error
        )
    return latest
