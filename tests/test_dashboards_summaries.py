"""The dashboards' summaries of history (trend, education effort, uplift) agree with the
rows they summarise, built either way, at either grain; and they are as fresh as their
last rebuild, which the page says."""

from __future__ import annotations

import random
from datetime import timedelta
from statistics import mean

import pytest
from django.db import connection
from django.utils import timezone

from clients.models import Phase, ProcessType, Segment
from dashboards import selectors, summaries
from dashboards.filters import Filters
from dashboards.models import EffortCell, TrendCell, UpliftCell
from dashboards.selectors import Scope
from dashboards.summaries import summaries_rebuild
from education.models import ActionStatus, EducationAction
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EducationActionFactory,
    EngagementFactory,
    submitted_assessment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Three managers' clients across segments, types and phases, with assessments in
    several months and actions of every status, some measured."""
    rng = random.Random(7)
    managers = [AccountManagerFactory(last_name="") for _ in range(3)]
    today = timezone.localdate()
    engagements = []
    for i in range(9):
        client = ClientFactory(
            segment=[Segment.TELECOM, Segment.BANKING, Segment.RETAIL][i % 3],
            owner=managers[i % 3],
            is_active=i != 8,
        )
        engagement = EngagementFactory(
            client=client,
            process_type=[ProcessType.COLLECTIONS, ProcessType.RETENTION][i % 2],
            phase=[Phase.OPERATION, Phase.TRANSITION, Phase.RENEWAL][i % 3],
        )
        engagements.append(engagement)
        for level in (1, 3):
            assessment = submitted_assessment(engagement, level=level + i % 2)
            months_back = rng.randrange(0, 30)
            from assessments.models import Assessment

            Assessment.objects.filter(pk=assessment.pk).update(
                submitted_at=timezone.now() - timedelta(days=30 * months_back)
            )
        for _ in range(6):
            status = rng.choice([ActionStatus.PLANNED, ActionStatus.DONE, ActionStatus.SKIPPED])
            measured = status == ActionStatus.DONE and rng.random() < 0.7
            EducationActionFactory(
                engagement=engagement,
                owner=rng.choice(managers),
                status=status,
                action_type=rng.choice(["workshop", "site_visit", "business_review"]),
                due_date=today - timedelta(days=rng.randrange(-60, 800)),
                uplift=round(rng.uniform(-5, 15), 2) if measured else None,
                maturity_delta=round(rng.uniform(-3, 8), 2) if measured else None,
                defensiveness_delta=round(rng.uniform(-8, 3), 2)
                if measured and rng.random() < 0.8
                else None,
            )
    return {"managers": managers, "engagements": engagements, "director": DirectorFactory()}


def cells() -> dict[str, list[tuple]]:
    def rows(model, *fields):
        return sorted(
            tuple(round(v, 6) if isinstance(v, float) else v for v in row)
            for row in model.objects.values_list(*fields)
        )

    attrs = ("fine", "segment", "client_owner_id", "process_type", "phase")
    return {
        "trend": rows(TrendCell, *attrs, "month", *TrendCell.SUMS),
        "effort": rows(EffortCell, *attrs, "period", "owner_id", *EffortCell.SUMS),
        "uplift": rows(UpliftCell, *attrs, "period", "action_type", *UpliftCell.SUMS),
    }


def test_the_sql_and_orm_builds_make_the_same_cells(history, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the SQL build is PostgreSQL's")
    summaries_rebuild()
    by_sql = cells()
    monkeypatch.setattr(summaries, "SQL_REBUILD", False)
    summaries_rebuild()
    assert cells() == by_sql
    assert by_sql["effort"]
    assert by_sql["uplift"]
    assert by_sql["trend"]


def expected_effort(scope_filter, period: str) -> dict[int, dict[str, int]]:
    """Effort per owner computed straight from the actions (the oracle)."""
    today = timezone.localdate()
    since = Filters(period=period).since()
    result: dict[int, dict[str, int]] = {}
    for action in EducationAction.objects.select_related("client", "engagement"):
        if not action.client.is_active or not scope_filter(action):
            continue
        if since is not None and action.due_date < timezone.localdate(since):
            continue
        row = result.setdefault(action.owner_id, {"done": 0, "overdue": 0, "open": 0})
        if action.status == ActionStatus.DONE:
            row["done"] += 1
        if action.status == ActionStatus.PLANNED:
            row["open"] += 1
            if action.due_date < today:
                row["overdue"] += 1
    return result


@pytest.mark.parametrize("period", ["3", "12", "24", "all"])
@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({}, lambda a: True),
        ({"segment": Segment.BANKING}, lambda a: a.client.segment == Segment.BANKING),
        ({"phase": Phase.RENEWAL}, lambda a: a.engagement.phase == Phase.RENEWAL),
        (
            {"process_type": ProcessType.RETENTION, "segment": Segment.TELECOM},
            lambda a: (
                a.engagement.process_type == ProcessType.RETENTION
                and a.client.segment == Segment.TELECOM
            ),
        ),
    ],
)
def test_effort_from_the_cells_equals_the_actions(history, period, filters, keep):
    summaries_rebuild()
    scope = Scope(user=history["director"], filters=Filters(period=period, **filters))
    got = {
        r.owner: {"done": r.done, "overdue": r.overdue, "open": r.open}
        for r in selectors.effort(scope)
    }
    assert got == expected_effort(keep, period)


def test_uplift_and_trend_from_the_cells_equal_the_rows(history):
    summaries_rebuild()
    director = history["director"]
    scope = Scope(user=director, filters=Filters(period="all", process_type=ProcessType.RETENTION))
    measured = [
        a
        for a in EducationAction.objects.select_related("client", "engagement")
        if a.uplift is not None
        and a.client.is_active
        and a.engagement.process_type == ProcessType.RETENTION
    ]
    by_type: dict[str, list[EducationAction]] = {}
    for action in measured:
        by_type.setdefault(action.action_type, []).append(action)
    got = {row.action_type: row for row in selectors.uplift(scope)}
    assert set(got) == set(by_type)
    for action_type, actions in by_type.items():
        assert got[action_type].measured == len(actions)
        assert got[action_type].average_uplift == round(mean(a.uplift or 0 for a in actions), 1)
        deltas = [a.defensiveness_delta for a in actions if a.defensiveness_delta is not None]
        expected = round(mean(deltas), 1) if deltas else None
        assert got[action_type].average_defensiveness_change == expected

    from assessments.models import Assessment

    trend = selectors.trend(Scope(user=director, filters=Filters(period="all")))
    counted = [
        a
        for a in Assessment.objects.select_related("engagement__client")
        if a.submitted_at and a.engagement.client.is_active
    ]
    assert sum(row.assessments for row in trend) == len(counted)
    for row in trend:
        month = [
            a for a in counted if timezone.localtime(a.submitted_at).strftime("%Y-%m") == row.month
        ]
        assert row.average_maturity == round(mean(a.maturity_score or 0 for a in month), 1)


def test_coarse_and_fine_cells_add_up_to_the_same(history):
    summaries_rebuild()
    for model, fields in (
        (EffortCell, ("done", "overdue", "open", "due")),
        (UpliftCell, ("measured",)),
        (TrendCell, ("assessments", "maturity_n")),
    ):
        for field in fields:
            fine = sum(model.objects.filter(fine=True).values_list(field, flat=True))
            coarse = sum(model.objects.filter(fine=False).values_list(field, flat=True))
            assert fine == coarse, (model.__name__, field)
    assert not EffortCell.objects.filter(fine=False).exclude(process_type="").exists()


def test_education_figures_are_as_fresh_as_the_last_rebuild(history, client):
    director = history["director"]
    state = summaries_rebuild()
    scope = Scope(user=director, filters=Filters())
    before = sum(r.done for r in selectors.effort(scope))
    since = Filters().since()
    assert since is not None
    action = EducationAction.objects.filter(
        status=ActionStatus.PLANNED,
        client__is_active=True,
        due_date__gte=timezone.localdate(since),
    ).first()
    assert action is not None
    action.status = ActionStatus.DONE
    action.save()
    assert sum(r.done for r in selectors.effort(scope)) == before  # until the next rebuild
    summaries_rebuild()
    assert sum(r.done for r in selectors.effort(scope)) == before + 1
    client.force_login(director)
    body = client.get("/dashboard/portfolio/").content.decode()
    assert "Trend and education figures as of" in body
    assert state.seconds >= 0


def test_the_refresh_task_rebuilds_and_beat_schedules_it(history, settings):
    from dashboards.models import SummaryState
    from dashboards.tasks import refresh
    from maturity.celery import beat_schedule

    assert refresh() >= 0
    assert SummaryState.objects.count() == 1
    schedule = beat_schedule(60, dashboard_seconds=300)
    assert schedule["dashboards.refresh"]["task"] == "dashboards.tasks.refresh"
    assert schedule["dashboards.refresh"]["schedule"] == 300.0


def test_a_new_database_builds_its_summaries_on_the_first_read(history):
    from dashboards.models import SummaryState

    SummaryState.objects.all().delete()
    TrendCell.objects.all().delete()
    figures = selectors.portfolio(Scope(user=history["director"], filters=Filters(period="all")))
    assert figures.trend
    assert SummaryState.objects.count() == 1


def test_the_admin_shows_the_derived_rows_and_rebuilds_the_summaries(client, history):
    from django.urls import reverse

    from dashboards.models import SummaryState
    from tests.factories import AdministratorFactory

    client.force_login(AdministratorFactory(is_superuser=True))
    for model in ("standing", "dimensionslot", "summarystate"):
        response = client.get(reverse(f"admin:dashboards_{model}_changelist"))
        assert response.status_code == 200, model
    assert client.get(reverse("admin:dashboards_standing_add")).status_code == 403
    state = summaries_rebuild()
    response = client.post(
        reverse("admin:dashboards_summarystate_changelist"),
        {"action": "rebuild", "_selected_action": [state.pk]},
        follow=True,
    )
    assert "Summaries rebuilt in" in response.content.decode()
    assert SummaryState.objects.get().refreshed_at > state.refreshed_at


def test_copy_fills_the_columns_a_caller_leaves_out(postgres):
    from clients.models import AuditEvent
    from core.bulk import write_rows

    owner = ClientFactory()
    write_rows(AuditEvent, ("client_id", "action", "subject"), [(owner.pk, "imported", "x")])
    event = AuditEvent.objects.get(subject="x")
    assert event.at is not None
    assert event.changes == {}
