"""Mixins the apps' viewsets share."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet


class FiltersOnList:
    """Filters narrow lists; a detail URL names its row. Applied on detail, a filter's
    default (ClientFilter's active clients only) would answer 404 for a row that exists,
    and an action's parameters would be read as filters."""

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "action", None) != "list":
            return queryset
        return super().filter_queryset(queryset)  # type: ignore[misc]
