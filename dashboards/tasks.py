"""Celery tasks of the dashboards."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dashboards.tasks.refresh")
def refresh() -> float:
    """Rebuild the dashboards' summaries; returns the seconds it took."""
    from dashboards.summaries import summaries_rebuild

    return summaries_rebuild().seconds


def enqueue_refresh() -> None:
    """Ask a worker to rebuild the summaries now (best effort: beat does it anyway)."""
    from core.tasks import enqueue

    enqueue(refresh)
