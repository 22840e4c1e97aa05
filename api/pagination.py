from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Keyset pagination: stable under inserts and as fast on page 1,000 as on page 1.

    Viewsets with a natural order set ``ordering`` themselves; the field must be unique or
    end with one (``("-created_at", "-id")``).
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
