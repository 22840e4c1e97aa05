"""htmx helpers shared by the apps' views."""

from __future__ import annotations

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    """The request comes from htmx (a partial is wanted, not a whole page)."""
    return request.headers.get("HX-Request") == "true"
