"""Standings follow the assessments, clients and engagements: refreshed in the
transaction that changes them."""

from __future__ import annotations

from typing import Any

from assessments.models import Assessment
from clients.models import Client, Engagement
from core.tasks import publish_after_commit
from dashboards import gaps, standings, tasks
from dashboards.models import Standing
from dashboards.slots import ensure_published_slots, ensure_slots


def refresh_on_change(sender: Any, *, assessment: Assessment, **kwargs: Any) -> None:
    """A submit or a review of one of its assessments: the engagement's standing follows
    (a return takes the assessment out of the count; an approval changes nothing, but
    refreshing is cheap and keeps one rule) — already, when the submit's statement carried
    STANDING_RIDER. The write may already hold the engagement locked
    (``engagement_held``), as the refresh would lock it."""
    ridden = kwargs.get("ridden") or {}
    if standings.STANDING_RIDER.name in ridden and standings.SINGLE_STATEMENT_REFRESH:
        return
    standings.standing_refresh(assessment.engagement_id, held=kwargs.get("engagement_held", False))


def refresh_on_delete(sender: Any, *, instance: Assessment, **kwargs: Any) -> None:
    if instance.submitted_at is not None:
        standings.standing_refresh(instance.engagement_id)


def client_saved(sender: Any, *, instance: Client, created: bool, **kwargs: Any) -> None:
    """Standings follow at once; the summaries, which count the client under its old
    segment, owner or status, are rebuilt right after the commit (not at the next tick),
    so a reassigned client leaves its former manager's figures within seconds."""
    if not created and not kwargs.get("raw") and standings.client_saved(instance):
        _refresh_summaries_after_commit()


def engagement_saved(sender: Any, *, instance: Engagement, created: bool, **kwargs: Any) -> None:
    if not created and not kwargs.get("raw") and standings.engagement_saved(instance):
        _refresh_summaries_after_commit()


def _refresh_summaries_after_commit() -> None:
    publish_after_commit(tasks.enqueue_refresh)


def slots_on_publish(sender: Any, *, version: Any, **kwargs: Any) -> None:
    ensure_slots(
        version.questionnaire_id,
        version.dimensions.order_by("position", "id").values_list("code", flat=True),
    )


def build_after_migrate(sender: Any, **kwargs: Any) -> None:
    """Slots for the published dimensions; a database that had assessments before
    standings existed gets them built once."""

    ensure_published_slots()
    if not Standing.objects.exists() and standings.counted().exists():
        standings.standings_rebuild()


def gap_on_round_change(sender: Any, *, round: Any, **kwargs: Any) -> None:
    """A round's gap may have moved (a respondent done, reconciled, closed): its
    engagement's standing follows, in the same transaction."""
    gaps.gaps_refresh([round.engagement_id])
