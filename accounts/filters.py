"""The security log's filters (the page and its JSON-lines export read the same)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.validators import validate_ipv46_address
from django.utils.translation import gettext_lazy as _

from accounts.models import SecurityEvent, SecurityEventKind

FILTERS = ("kind", "username", "ip", "since", "until")


class SecurityEventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=SecurityEventKind.choices, label=_("Event"), empty_label=_("Any")
    )
    username = django_filters.CharFilter(
        lookup_expr="icontains", label=_("Username"), max_length=150
    )
    ip = django_filters.CharFilter(
        label=_("IP address"), max_length=45, validators=[validate_ipv46_address]
    )
    since = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__lte",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = SecurityEvent
        fields = ["kind"]
