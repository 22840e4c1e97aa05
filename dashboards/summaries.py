"""The dashboards' summaries of history — the monthly trend and the education figures —
rebuilt together in one transaction, so a reader sees the last build or the new one,
never half of each.

Rebuilt every ``DASHBOARD_REFRESH_SECONDS`` by Celery beat (``dashboards.tasks.refresh``),
by ``refresh_dashboards``, after ``seed_demo``, and on the first dashboard read of a
database that never had them. Education figures are "as of" the rebuild: an action done
a minute ago counts at the next one. The periods are the dashboard's presets, counted
from the month of the rebuild.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DateField, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from core.bulk import write_rows
from dashboards.filters import PERIODS, Filters
from dashboards.gaps import gaps_refresh
from dashboards.models import EffortCell, SummaryState, TrendCell, UpliftCell
from dashboards.standings import counted
from education.models import ActionStatus, EducationAction

# The filter attributes, as reached from an assessment and from an action.
FROM_ASSESSMENT = {
    "segment": "engagement__client__segment",
    "client_owner_id": "engagement__client__owner_id",
    "process_type": "engagement__process_type",
    "phase": "engagement__phase",
}
FROM_ACTION = {
    "segment": "client__segment",
    "client_owner_id": "client__owner_id",
    "process_type": "engagement__process_type",
    "phase": "engagement__phase",
}


def state() -> SummaryState | None:
    return SummaryState.objects.order_by("-refreshed_at").first()


# Rebuilds take turns (beat, refresh_dashboards, the admin, a first read): two at once
# would each delete only what was committed and insert their own cells, doubling them.
REBUILD_LOCK = 7_000_001


@transaction.atomic
def summaries_rebuild(
    now: datetime | None = None, *, only_if_missing: bool = False
) -> SummaryState:
    """Rebuild every summary; with ``only_if_missing``, only if none was ever built (the
    first read of a new database; a concurrent first read waits and reuses its build)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK])
            # Each pass groups hundreds of thousands of rows: sort in memory, not on disk.
            cursor.execute("SET LOCAL work_mem = '128MB'")
    if only_if_missing and (existing := state()) is not None:
        return existing
    moment = now or timezone.now()
    started = time.perf_counter()
    TrendCell.objects.all().delete()
    EffortCell.objects.all().delete()
    UpliftCell.objects.all().delete()
    _trend()
    _education(moment)
    gaps_refresh()  # answers still being typed, assessments submitted during a round
    SummaryState.objects.all().delete()
    return SummaryState.objects.create(
        refreshed_at=moment, seconds=round(time.perf_counter() - started, 3)
    )


ATTRIBUTES = tuple(FROM_ASSESSMENT)  # segment, client_owner_id, process_type, phase


def _trend() -> None:
    for fine in (True, False):
        _trend_cells(fine)


def _trend_cells(fine: bool) -> None:
    keys = list(FROM_ASSESSMENT.values()) if fine else list(FROM_ASSESSMENT.values())[:2]
    months = (
        counted()
        .filter(engagement__client__is_active=True)
        .annotate(month=TruncMonth("submitted_at", output_field=DateField()))
        .values_list("month", *keys)
        .annotate(
            n=Count("pk"),
            maturity_sum=Sum("maturity_score"),
            maturity_n=Count("maturity_score"),
            defensiveness_sum=Sum("defensiveness_index"),
            defensiveness_n=Count("defensiveness_index"),
        )
        .order_by()
    )
    blank = () if fine else ("", "")
    write_rows(
        TrendCell,
        ("fine", "month", *ATTRIBUTES, *TrendCell.SUMS),
        [
            (fine, *key, *blank, n, m_sum or 0.0, m_n, d_sum or 0.0, d_n)
            for *key, n, m_sum, m_n, d_sum, d_n in months
        ],
    )


# On PostgreSQL each summary is one INSERT … SELECT, the periods joined in as a VALUES
# list, so nothing passes through Python; elsewhere (the embedded SQLite) the ORM builds
# the same cells period by period. Tests build both ways and compare.
SQL_REBUILD = True


def _education(moment: datetime) -> None:
    today = timezone.localdate(moment)
    starts = {
        period: timezone.localdate(since)
        if (since := Filters(period=period).since(moment))
        else None
        for period, _label in PERIODS
    }
    if connection.vendor == "postgresql" and SQL_REBUILD:
        _education_sql(today, starts)
    else:
        _education_orm(today, starts)


# Grouped first by engagement and owner (integer keys, hashed in memory), then joined to
# the engagement and client for the filter attributes: a third of the time of grouping
# the joined rows by their text attributes.
PER_ENGAGEMENT = """
    WITH per_engagement AS (
        SELECT p.period, a.engagement_id, {key}, {aggregates}
          FROM education_educationaction a
          JOIN (VALUES {periods}) AS p (period, start)
            ON p.start IS NULL OR a.due_date >= p.start
         {where}
         GROUP BY 1, 2, 3
    )
"""


def _education_sql(today: date, starts: dict[str, date | None]) -> None:
    params: list[Any] = []
    for period, start in starts.items():
        params += [period, start]
    periods = ", ".join(["(%s, %s::date)"] * len(starts))
    planned, done = ActionStatus.PLANNED.value, ActionStatus.DONE.value
    effort = PER_ENGAGEMENT.format(
        key="a.owner_id",
        aggregates=(
            "count(*) FILTER (WHERE a.status = %s) AS done, "
            "count(*) FILTER (WHERE a.status = %s AND a.due_date < %s) AS overdue, "
            "count(*) FILTER (WHERE a.status = %s) AS open, "
            "count(*) FILTER (WHERE a.status <> %s OR a.due_date < %s) AS due"
        ),
        periods=periods,
        where="",
    )
    uplift = PER_ENGAGEMENT.format(
        key="a.action_type",
        aggregates=(
            "count(*) AS measured, sum(a.uplift) AS uplift_sum, "
            "coalesce(sum(a.maturity_delta), 0) AS maturity_sum, "
            "count(a.maturity_delta) AS maturity_n, "
            "coalesce(sum(a.defensiveness_delta), 0) AS defensiveness_sum, "
            "count(a.defensiveness_delta) AS defensiveness_n"
        ),
        periods=periods,
        where="WHERE a.uplift IS NOT NULL",
    )
    attributes = """
          FROM per_engagement x
          JOIN clients_engagement e ON e.id = x.engagement_id
          JOIN clients_client c ON c.id = e.client_id
         WHERE c.is_active
         GROUP BY GROUPING SETS ((1, 2, 3, 4, e.process_type, e.phase), (1, 2, 3, 4))"""
    grain = "coalesce(e.process_type, ''), coalesce(e.phase, ''), GROUPING(e.process_type) = 0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{effort}
                INSERT INTO dashboards_effortcell
                       (period, owner_id, segment, client_owner_id, process_type, phase,
                        fine, done, overdue, open, due)
                SELECT x.period, x.owner_id, c.segment, c.owner_id, {grain},
                       sum(x.done), sum(x.overdue), sum(x.open), sum(x.due)
                {attributes}""",
            [done, planned, today, planned, planned, today, *params],
        )
        cursor.execute(
            f"""{uplift}
                INSERT INTO dashboards_upliftcell
                       (period, action_type, segment, client_owner_id, process_type, phase,
                        fine, measured, uplift_sum, maturity_sum, maturity_n,
                        defensiveness_sum, defensiveness_n)
                SELECT x.period, x.action_type, c.segment, c.owner_id, {grain},
                       sum(x.measured), sum(x.uplift_sum), sum(x.maturity_sum),
                       sum(x.maturity_n), sum(x.defensiveness_sum), sum(x.defensiveness_n)
                {attributes}""",
            params,
        )


def _education_orm(today: date, starts: dict[str, date | None]) -> None:
    for fine in (True, False):
        _education_orm_cells(today, starts, fine)


def _education_orm_cells(today: date, starts: dict[str, date | None], fine: bool) -> None:
    keys = list(FROM_ACTION.values()) if fine else list(FROM_ACTION.values())[:2]
    blank = () if fine else ("", "")
    for period, start in starts.items():
        actions = EducationAction.objects.filter(client__is_active=True)
        if start is not None:
            actions = actions.filter(due_date__gte=start)
        effort = (
            actions.values_list("owner_id", *keys)
            .annotate(
                done=Count("pk", filter=Q(status=ActionStatus.DONE)),
                overdue=Count("pk", filter=Q(status=ActionStatus.PLANNED, due_date__lt=today)),
                open=Count("pk", filter=Q(status=ActionStatus.PLANNED)),
                due=Count("pk", filter=~Q(status=ActionStatus.PLANNED) | Q(due_date__lt=today)),
            )
            .order_by()
        )
        write_rows(
            EffortCell,
            ("fine", "period", "owner_id", *ATTRIBUTES, *EffortCell.SUMS),
            [(fine, period, row[0], *row[1 : 1 + len(keys)], *blank, *row[-4:]) for row in effort],
        )
        uplift = (
            actions.filter(uplift__isnull=False)
            .values_list("action_type", *keys)
            .annotate(
                measured=Count("pk"),
                uplift_sum=Sum("uplift"),
                maturity_sum=Sum("maturity_delta"),
                maturity_n=Count("maturity_delta"),
                defensiveness_sum=Sum("defensiveness_delta"),
                defensiveness_n=Count("defensiveness_delta"),
            )
            .order_by()
        )
        write_rows(
            UpliftCell,
            ("fine", "period", "action_type", *ATTRIBUTES, *UpliftCell.SUMS),
            [
                (
                    fine,
                    period,
                    action_type,
                    *key,
                    *blank,
                    n,
                    total,
                    m_sum or 0.0,
                    m_n,
                    d_sum or 0.0,
                    d_n,
                )
                for action_type, *key, n, total, m_sum, m_n, d_sum, d_n in uplift
            ],
        )
