"""Responses that download a file."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse


def json_download(data: Any, filename: str) -> HttpResponse:
    """``data`` as a readable JSON file (indented, UTF-8 as written, dates and decimals as
    Django writes them) the browser saves as ``filename``."""
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
