"""The API's filter backend: django-filter's, stricter about empty values."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError


class StrictFilterBackend(DjangoFilterBackend):
    """An empty value for a filter that takes a date, a number, a choice or a row
    (``?until=``, ``?client=``) is a 400 naming the parameter. django-filter reads it as
    "no filter", which suits a page's form, where an untouched field is sent empty; an
    integration that sends one has lost a value on its way, and would otherwise get
    everything back as if it had asked for everything. Text filters (a search) may be
    empty."""

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            fields = {name: filter_.field_class for name, filter_ in filterset.filters.items()}
            empty = empty_values(request.query_params, fields)
            if empty:
                raise ValidationError(empty)
        return super().filter_queryset(request, queryset, view)


def empty_values(params: Any, fields: dict[str, type[forms.Field]]) -> dict[str, list[Any]]:
    """The parameters of ``params`` sent empty whose form field (by name, its class) takes
    a date, a number, a choice or a row — each with its error, as StrictFilterBackend says."""
    return {
        name: [ErrorDetail(str(_("Give this filter a value, or leave it out.")), "blank")]
        for name, field_class in fields.items()
        if params.get(name, None) == "" and not issubclass(field_class, forms.CharField)
    }
