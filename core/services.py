from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from core.models import Heartbeat


def heartbeat_record(*, source: str) -> Heartbeat:
    """Count one heartbeat from ``source``; safe under concurrent workers."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(source=source).update(beats=F("beats") + 1, last_seen=now)
    if not updated:
        Heartbeat.objects.get_or_create(source=source, defaults={"beats": 1, "last_seen": now})
    return Heartbeat.objects.get(source=source)
