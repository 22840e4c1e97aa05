"""FilterSets shared by the browser lists and the API: one definition of each filter."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from clients.models import (
    Client,
    Engagement,
    EntryKind,
    Outcome,
    PastExperience,
    Phase,
    ProcessType,
    Segment,
    Stakeholder,
    Stance,
    TimelineEntry,
)
from clients.selectors import clients_visible_to


class ClientStatus:
    ACTIVE = "active"
    ARCHIVED = "archived"
    ALL = "all"
    CHOICES = ((ACTIVE, _("Active")), (ARCHIVED, _("Archived")), (ALL, _("All")))


class ClientFilter(django_filters.FilterSet):
    """Search, segment, owner, phase and status; active clients unless asked otherwise."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    segment = django_filters.ChoiceFilter(
        choices=Segment.choices, label=_("Segment"), empty_label=_("Any")
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(role=Role.ACCOUNT_MANAGER),
        label=_("Owner"),
        empty_label=_("Anyone"),
    )
    phase = django_filters.ChoiceFilter(
        choices=Phase.choices,
        method="filter_phase",
        label=_("Engagement phase"),
        empty_label=_("Any"),
    )
    status = django_filters.ChoiceFilter(
        choices=ClientStatus.CHOICES,
        method="filter_status",
        label=_("Status"),
        empty_label=None,
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("segment", "segment"),
            ("country", "country"),
            ("owner__first_name", "owner"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "name": _("Name"),
            "segment": _("Segment"),
            "country": _("Country"),
            "owner__first_name": _("Owner"),
            "updated_at": _("Last updated"),
        },
        label=_("Sort by"),
        empty_label=_("Name"),
    )

    class Meta:
        model = Client
        fields = ["q", "segment", "owner", "phase", "status"]

    # The pages read a status they do not know as "active" (an old bookmark still shows
    # something); the API refuses it, naming the field (ClientApiFilter).
    unknown_status_is_active = True

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # Status defaults to active clients when the request does not say (or, on a page,
        # says something that is not a status): archived clients never appear by accident.
        valid = {value for value, _ in ClientStatus.CHOICES}
        given = None if data is None else data.get("status")
        if data is not None and (
            given is None or (given not in valid and self.unknown_status_is_active)
        ):
            data = data.copy()
            data["status"] = ClientStatus.ACTIVE
        super().__init__(data, *args, **kwargs)

    def filter_search(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(legal_name__icontains=value) | Q(tax_id__icontains=value)
        )

    def filter_phase(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        return queryset.filter(
            Exists(Engagement.objects.filter(client_id=OuterRef("pk"), phase=value))
        )

    def filter_status(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        if value == ClientStatus.ACTIVE:
            return queryset.filter(is_active=True)
        if value == ClientStatus.ARCHIVED:
            return queryset.filter(is_active=False)
        return queryset


class ScopedClientFilterSet(django_filters.FilterSet):
    """Offers only the clients the requesting user may see in the ``client`` filter, so
    filtering by someone else's client id answers exactly like an id that does not exist."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        visible = clients_visible_to(user)
        self.filters["client"].queryset = visible
        if "engagement" in self.filters:
            self.filters["engagement"].queryset = Engagement.objects.filter(client__in=visible)


class EngagementFilter(ScopedClientFilterSet):
    process_type = django_filters.ChoiceFilter(choices=ProcessType.choices)
    phase = django_filters.ChoiceFilter(choices=Phase.choices)

    class Meta:
        model = Engagement
        fields = ["client", "process_type", "phase"]


class WholeNumberFilter(django_filters.NumberFilter):
    """A filter on an integer field: ``0.5`` is refused (400), not compared and never
    matched."""

    field_class = forms.IntegerField


class StakeholderFilter(ScopedClientFilterSet):
    stance = django_filters.ChoiceFilter(choices=Stance.choices)
    influence = WholeNumberFilter(field_name="influence")

    class Meta:
        model = Stakeholder
        fields = ["client", "stance", "influence"]


class PastExperienceFilter(ScopedClientFilterSet):
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    severity = WholeNumberFilter(field_name="severity")
    min_severity = WholeNumberFilter(field_name="severity", lookup_expr="gte")

    class Meta:
        model = PastExperience
        fields = ["client", "outcome", "severity", "min_severity"]


class TimelineEntryFilter(ScopedClientFilterSet):
    kind = django_filters.ChoiceFilter(choices=EntryKind.choices)
    since = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")

    class Meta:
        model = TimelineEntry
        fields = ["client", "engagement", "kind", "relevance", "since", "until"]
