"""The portfolio dashboard on a 10,000-client demo portfolio, beside hand-written SQL.

For no filters and three filter sets it prints, over ``--runs`` requests after warm-up:

- the dashboard page's server time (p50, p95): a director's GET through Django's whole
  stack — session, middleware, the ten figure queries, template and charts' JSON;
- the figures alone (``dashboards.selectors.portfolio``), p50 and p95;
- the SQL queries of a page request;
- the same aggregates as hand-written SQL run directly on the connection (p50, p95),
  and the ratios page p95 / SQL p95 and figures p95 / SQL p95.

Targets: page p95 ≤ 150 ms and ≤ 1.5× the hand-written SQL.

It reads the portfolio in ``DATABASE_URL``, which must hold ``seed_demo --clients 10000``
(over 100,000 assessments); ``--seed`` builds it first (about 12 minutes)::

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/maturity_bench \\
        .venv/bin/python bench/dashboard.py [--seed] [--runs 40] [--explain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maturity.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from assessments.models import Assessment  # noqa: E402
from clients.models import Client  # noqa: E402
from dashboards import selectors  # noqa: E402
from dashboards.filters import Filters  # noqa: E402
from dashboards.models import Standing  # noqa: E402
from dashboards.selectors import (  # noqa: E402
    AT_RISK_PAGE_SIZE,
    FALLING_POINTS,
    HIGH_DEFENSIVENESS,
    LOW_MATURITY_LEVEL,
    SCATTER_LIMIT,
    Scope,
)

# --- The same aggregates, by hand ----------------------------------------------------------

RISK = f"""(s.maturity_level <= {LOW_MATURITY_LEVEL}
        OR s.defensiveness_index >= {HIGH_DEFENSIVENESS}
        OR (s.previous_maturity_score IS NOT NULL
            AND s.maturity_score <= s.previous_maturity_score - {FALLING_POINTS})
        OR s.reassess_due_at < %(now)s)"""


def where(filters: Filters, table: str = "s") -> str:
    parts = []
    for name, column in (
        ("segment", "segment"),
        ("owner", "client_owner_id"),
        ("process_type", "process_type"),
        ("phase", "phase"),
    ):
        if getattr(filters, name):
            parts.append(f"AND {table}.{column} = %({name})s")
    return " ".join(parts)


def raw_statements(filters: Filters, codes: list[str]) -> list[str]:
    period = " AND s.submitted_at >= %(since)s" if filters.period != "all" else ""
    standings = f"FROM dashboards_standing s WHERE s.client_active {where(filters)} {period}"
    group = "segment" if filters.by == "segment" else "process_type"
    engagement_exists = ""
    if filters.process_type or filters.phase:
        engagement_exists = (
            "AND EXISTS (SELECT 1 FROM clients_engagement e WHERE e.client_id = c.id "
            + where(Filters(process_type=filters.process_type, phase=filters.phase), "e")
            + ")"
        )
    client_where = (" AND c.segment = %(segment)s" if filters.segment else "") + (
        " AND c.owner_id = %(owner)s" if filters.owner else ""
    )
    heat = ", ".join(f"avg(s.{column}), count(s.{column})" for column in codes)
    fine = "true" if (filters.process_type or filters.phase) else "false"
    cells = f"AND x.fine = {fine} " + where(filters, "x")
    return [
        "SELECT refreshed_at FROM dashboards_summarystate ORDER BY refreshed_at DESC LIMIT 1",
        f"""SELECT s.maturity_level, s.quadrant, count(*), sum(s.maturity_score),
                   count(s.maturity_score), sum(s.defensiveness_index),
                   count(s.defensiveness_index), count(*) FILTER (WHERE {RISK})
                   {standings} GROUP BY 1, 2""",
        f"""SELECT count(*) FROM clients_client c
             WHERE c.is_active {client_where} {engagement_exists}""",
        f"""SELECT s.client_id, s.client_name, s.process_type, s.maturity_score,
                   s.defensiveness_index, s.quadrant {standings}
               AND s.maturity_score IS NOT NULL AND s.defensiveness_index IS NOT NULL
             ORDER BY s.submitted_at DESC, s.engagement_id DESC LIMIT {SCATTER_LIMIT}""",
        f"""SELECT x.month, sum(x.assessments), sum(x.maturity_sum), sum(x.maturity_n),
                   sum(x.defensiveness_sum), sum(x.defensiveness_n)
              FROM dashboards_trendcell x
             WHERE true {cells}
               {" AND x.month >= %(since_day)s" if filters.period != "all" else ""}
             GROUP BY 1 ORDER BY 1""",
        f"""SELECT s.{group}, {heat} {standings} AND s.questionnaire_id = %(questionnaire)s
             GROUP BY 1 ORDER BY 1""",
        f"""WITH page AS (
            SELECT s.engagement_id,
                   (s.maturity_level <= {LOW_MATURITY_LEVEL})::int
                   + (s.defensiveness_index >= {HIGH_DEFENSIVENESS})::int
                   + (coalesce(s.maturity_score <= s.previous_maturity_score
                               - {FALLING_POINTS}, false))::int
                   + (s.reassess_due_at < %(now)s)::int AS risk, s.maturity_score
              {standings} AND {RISK}
             ORDER BY risk DESC, s.maturity_score ASC NULLS LAST, s.engagement_id
             LIMIT {AT_RISK_PAGE_SIZE})
            SELECT s.engagement_id, s.client_id, s.client_name, s.process_type, u.first_name,
                   u.last_name, u.username, s.maturity_level, s.maturity_score,
                   s.previous_maturity_score, s.defensiveness_index, s.submitted_at,
                   s.reassess_due_at,
                   (s.maturity_level <= {LOW_MATURITY_LEVEL})::int
                   + (s.defensiveness_index >= {HIGH_DEFENSIVENESS})::int
                   + (coalesce(s.maturity_score <= s.previous_maturity_score
                               - {FALLING_POINTS}, false))::int
                   + (s.reassess_due_at < %(now)s)::int AS risk
              FROM page JOIN dashboards_standing s ON s.engagement_id = page.engagement_id
              JOIN accounts_user u ON u.id = s.client_owner_id
             ORDER BY page.risk DESC, page.maturity_score ASC NULLS LAST,
                   s.engagement_id""",
        f"""SELECT x.owner_id, u.first_name, u.last_name, u.username, sum(x.done),
                   sum(x.overdue), sum(x.open), sum(x.due)
              FROM dashboards_effortcell x JOIN accounts_user u ON u.id = x.owner_id
             WHERE x.period = %(period)s {cells}
             GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 4, 1""",
        f"""SELECT x.action_type, sum(x.measured), sum(x.uplift_sum), sum(x.maturity_sum),
                   sum(x.maturity_n), sum(x.defensiveness_sum), sum(x.defensiveness_n)
              FROM dashboards_upliftcell x
             WHERE x.period = %(period)s {cells}
             GROUP BY 1""",
    ]


QUESTIONNAIRE = 0  # the default questionnaire's id, set once the portfolio is read


def raw_params(filters: Filters) -> dict[str, Any]:
    now = timezone.now()
    since = filters.since(now)
    return {
        "segment": filters.segment,
        "owner": filters.owner,
        "process_type": filters.process_type,
        "phase": filters.phase,
        "period": filters.period,
        "questionnaire": QUESTIONNAIRE,
        "since": since,
        "since_day": timezone.localdate(since) if since else None,
        "today": timezone.localdate(now),
        "now": now,
        "tz": settings.TIME_ZONE,
    }


def run_raw(filters: Filters, codes: list[str]) -> int:
    rows = 0
    with connection.cursor() as cursor:
        for sql in raw_statements(filters, codes):
            cursor.execute(sql, raw_params(filters))
            rows += len(cursor.fetchall())
    return rows


# --- Measuring -------------------------------------------------------------------------------


def record(into: list[str], execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    into.append(sql)
    return execute(sql, params, many, context)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(fn: Any, runs: int, warmup: int = 3) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def filter_sets() -> list[tuple[str, dict[str, str]]]:
    manager = (
        User.objects.filter(role=Role.ACCOUNT_MANAGER, owned_clients__isnull=False)
        .order_by("username")
        .first()
    )
    return [
        ("no filters (last 12 months)", {}),
        ("segment=banking", {"segment": "banking"}),
        (
            "owner=<an account manager>, period=24",
            {"owner": str(manager.pk) if manager else "", "period": "24"},
        ),
        (
            "process_type=collections, phase=operation, by=process_type",
            {"process_type": "collections", "phase": "operation", "by": "process_type"},
        ),
        ("all time", {"period": "all"}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", action="store_true", help="seed_demo --clients 10000 first")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each SQL")
    args = parser.parse_args()
    # Measured as served in production: no SQL logging on every query (DEBUG is only on
    # so the settings load without production's required variables).
    settings.DEBUG = False
    if connection.vendor != "postgresql":
        sys.exit("bench/dashboard.py needs PostgreSQL (DATABASE_URL=postgres://…)")
    if args.seed:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("seed_demo", "--clients", "10000", "--force")
    clients = Client.objects.count()
    assessments = Assessment.objects.exclude(submitted_at=None).count()
    print(
        f"portfolio: {clients:,} clients, {assessments:,} submitted assessments, "
        f"{Standing.objects.count():,} standings"
    )
    if assessments < 100_000:
        print("  (fewer than 100,000 assessments: run with --seed on an empty database)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    assert director is not None, "no director: seed the demo portfolio first"
    # As a long-lived server process would: keep the connection between requests (the test
    # client's request_finished would otherwise close it, and each request reconnect).
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    http = HttpClient()
    http.force_login(director)
    from dashboards.models import slot_column

    columns = selectors.dimensions()
    codes = [slot_column(d["slot"]) for d in columns if d["slot"]]
    global QUESTIONNAIRE
    QUESTIONNAIRE = columns[0]["questionnaire"] if columns else 0
    print(
        f"{'filters':<58} {'page p50':>9} {'p95':>7} {'figures p50':>12} {'p95':>7} "
        f"{'queries':>8} {'SQL p50':>8} {'p95':>7} {'page/SQL':>9} {'figures/SQL':>12}"
    )
    for label, params in filter_sets():
        from dashboards.filters import DashboardFilterForm

        form = DashboardFilterForm(params)
        assert form.is_valid(), form.errors
        filters = form.filters()
        scope = Scope(user=director, filters=filters)

        def page(params: dict[str, str] = params) -> None:
            response = http.get("/dashboard/portfolio/", params, HTTP_HOST="127.0.0.1")
            assert response.status_code == 200

        # Counted with an execute wrapper: the test client's request_started clears
        # connection.queries, which CaptureQueriesContext reads.
        statements: list[str] = []
        with connection.execute_wrapper(partial(record, statements)):
            page()
        page_p50, page_p95 = timed(page, args.runs)
        fig_p50, fig_p95 = timed(lambda scope=scope: selectors.portfolio(scope), args.runs)
        raw_p50, raw_p95 = timed(lambda filters=filters: run_raw(filters, codes), args.runs)
        print(
            f"{label:<58} {page_p50:>7.1f}ms {page_p95:>5.1f}ms {fig_p50:>10.1f}ms "
            f"{fig_p95:>5.1f}ms {len(statements):>8} {raw_p50:>6.1f}ms {raw_p95:>5.1f}ms "
            f"{page_p95 / raw_p95:>8.2f}x {fig_p95 / raw_p95:>11.2f}x"
        )
        if args.explain:
            with connection.cursor() as cursor:
                for sql in raw_statements(filters, codes):
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, raw_params(filters))
                    plan = [row[0] for row in cursor.fetchall()]
                    print("   ", plan[-1], "|", sql.split()[1][:40])


if __name__ == "__main__":
    main()
