from __future__ import annotations

from celery import shared_task

from core.services import heartbeat_record


@shared_task(name="core.tasks.heartbeat")
def heartbeat(source: str = "manual") -> int:
    """Record that a worker is alive; returns the number of beats seen from ``source``."""
    return heartbeat_record(source=source).beats
