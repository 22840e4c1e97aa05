from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Keyset pagination: stable under inserts and as fast on page 1,000 as on page 1.

    Viewsets with a natural order set ``ordering`` themselves; the field must be unique or
    end with one (``("-created_at", "-id")``).
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Any) -> int:
        """``page_size`` as asked, at most ``max_page_size``; one that is not a whole number
        from 1 up is a 400 naming it (DRF would quietly use the default)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            assert self.page_size is not None  # PAGE_SIZE is set in settings
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("Give a whole number of rows from 1 up.")]}
            )
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        # DRF checks a cursor's offset but not its position, which is compared with the
        # ordering field as it came: a well-formed cursor whose position is not an id
        # ("p=abc", or past bigint) is as invalid as a garbled one.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, ValidationError, DataError) as error:
            raise NotFound(self.invalid_cursor_message) from error
