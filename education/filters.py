"""The action list's filters: one FilterSet for the API (and any list page)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.selectors import clients_visible_to, engagements_visible_to
from education.models import ActionStatus, ActionType, EducationAction

OVERDUE = "overdue"


class VisibleClientFilter(django_filters.ModelChoiceFilter):
    """Another manager's client fails like an id that does not exist."""

    def get_queryset(self, request: Any) -> Any:
        return clients_visible_to(getattr(request, "user", None))


class VisibleEngagementFilter(django_filters.ModelChoiceFilter):
    def get_queryset(self, request: Any) -> Any:
        return engagements_visible_to(getattr(request, "user", None))


class EducationActionFilter(django_filters.FilterSet):
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Owner"))
    status = django_filters.ChoiceFilter(
        choices=[*ActionStatus.choices, (OVERDUE, _("Overdue"))],
        method="filter_status",
        label=_("Status"),
    )
    action_type = django_filters.ChoiceFilter(choices=ActionType.choices, label=_("Type"))
    client = VisibleClientFilter(label=_("Client"))
    engagement = VisibleEngagementFilter(label=_("Engagement"))
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label=_("Due on or after")
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label=_("Due on or before")
    )

    class Meta:
        model = EducationAction
        fields = [
            "owner",
            "status",
            "action_type",
            "client",
            "engagement",
            "due_after",
            "due_before",
        ]

    def filter_status(
        self, queryset: QuerySet[EducationAction], name: str, value: str
    ) -> QuerySet[EducationAction]:
        if value == OVERDUE:
            return queryset.filter(status=ActionStatus.PLANNED, due_date__lt=timezone.localdate())
        return queryset.filter(status=value)
