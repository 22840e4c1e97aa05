"""Celery tasks of the dashboards."""

from __future__ import annotations

from celery import shared_task

from core.tasks import enqueue
from dashboards.summaries import summaries_rebuild


@shared_task(name="dashboards.tasks.refresh")
def refresh() -> float:
    """Rebuild the dashboards' summaries; returns the seconds it took."""
    return summaries_rebuild().seconds


def enqueue_refresh() -> None:
    """Ask a worker to rebuild the summaries now (best effort: beat does it anyway)."""
    enqueue(refresh)
