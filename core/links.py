"""Links that leave the site (e-mails, webhook payloads): absolute, on SITE_URL."""

from __future__ import annotations

from django.conf import settings


def site_url(path: str) -> str:
    """``path`` (as ``reverse`` gives it) as an absolute URL on the site."""
    return settings.SITE_URL.rstrip("/") + path
