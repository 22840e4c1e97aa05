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
import statistics
import sys
import time
from functools import partial
from typing import Any

import _django  # noqa: F401  (the project on sys.path, Django set up)
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import Role, User
from assessments.models import Assessment
from clients.models import Client
from dashboards import selectors
from dashboards.figures import Figures
from dashboards.filters import Filters
from dashboards.models import Standing
from dashboards.selectors import (
    AT_RISK_PAGE_SIZE,
    FALLING_POINTS,
    HIGH_DEFENSIVENESS,
    LOW_MATURITY_LEVEL,
    SCATTER_LIMIT,
    Scope,
)
from education import cadence

# --- The same aggregates, by hand ----------------------------------------------------------


def risk_sql(filters: Filters, table: str, previous: str) -> tuple[str, str]:
    """The at-risk condition and the number of reasons, over ``table``'s columns: any
    reason in the period, an overdue reassessment whenever (``Scope.at_risk_q``)."""
    reasons = (
        f"{table}.maturity_level <= {LOW_MATURITY_LEVEL}",
        f"{table}.defensiveness_index >= {HIGH_DEFENSIVENESS}",
        f"{table}.maturity_score <= {table}.{previous} - {FALLING_POINTS}",
        f"{table}.reassess_due_at < %(now)s",
    )
    any_reason = " OR ".join(f"coalesce({r}, false)" for r in reasons)
    if filters.period != "all":
        any_reason = f"({table}.submitted_at >= %(since)s AND ({any_reason})) OR ({reasons[-1]})"
    return f"({any_reason})", " + ".join(f"coalesce({r}, false)::int" for r in reasons)


def in_period(filters: Filters, table: str) -> str:
    return f"{table}.submitted_at >= %(since)s" if filters.period != "all" else "true"


def where(filters: Filters, table: str = "s", owner: str = "client_owner_id") -> str:
    """The filters as conditions on ``table`` (``owner``: the account manager's column)."""
    parts = []
    for name, column in (
        ("segment", "segment"),
        ("owner", owner),
        ("process_type", "process_type"),
        ("phase", "phase"),
    ):
        if getattr(filters, name):
            parts.append(f"AND {table}.{column} = %({name})s")
    return " ".join(parts)


def client_and_engagement_where(filters: Filters) -> tuple[str, str, str]:
    """The filters on the clients (``c``) and on the engagements (``e``) tables, and the
    engagement filters as a condition on a client (it has such an engagement)."""
    clients = where(Filters(segment=filters.segment, owner=filters.owner), "c", owner="owner_id")
    engagements = where(Filters(process_type=filters.process_type, phase=filters.phase), "e")
    exists = (
        f"AND EXISTS (SELECT 1 FROM clients_engagement e WHERE e.client_id = c.id {engagements})"
        if engagements
        else ""
    )
    return clients, engagements, exists


def raw_statements(filters: Filters, codes: list[str]) -> list[str]:
    everywhen = f"FROM dashboards_standing s WHERE s.client_active {where(filters)}"
    standings = f"{everywhen} AND {in_period(filters, 's')}"
    period = f"FILTER (WHERE {in_period(filters, 's')})"
    risk, reasons = risk_sql(filters, "s", "previous_maturity_score")
    group = "segment" if filters.by == "segment" else "process_type"
    client_where, _engagements, engagement_exists = client_and_engagement_where(filters)
    heat = ", ".join(f"avg(s.{column}), count(s.{column})" for column in codes)
    fine = "true" if (filters.process_type or filters.phase) else "false"
    cells = f"AND x.fine = {fine} " + where(filters, "x")
    return [
        "SELECT refreshed_at FROM dashboards_summarystate ORDER BY refreshed_at DESC LIMIT 1",
        f"""SELECT s.maturity_level, s.quadrant, count(*) {period},
                   sum(s.maturity_score) {period}, count(s.maturity_score) {period},
                   sum(s.defensiveness_index) {period}, count(s.defensiveness_index) {period},
                   count(*) FILTER (WHERE {risk})
                   {everywhen} GROUP BY 1, 2""",
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
            SELECT s.engagement_id, {reasons} AS risk, s.maturity_score
              {everywhen} AND {risk}
             ORDER BY risk DESC, s.maturity_score ASC NULLS LAST, s.engagement_id
             LIMIT {AT_RISK_PAGE_SIZE})
            SELECT s.engagement_id, s.client_id, s.client_name, s.process_type, u.first_name,
                   u.last_name, u.username, s.maturity_level, s.maturity_score,
                   s.previous_maturity_score, s.defensiveness_index, s.submitted_at,
                   s.reassess_due_at, {reasons} AS risk
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


# --- The same aggregates, by hand, from the source tables -----------------------------------
#
# What the figures cost without the projection and the summaries: each engagement's latest
# counted assessment (and the one before) found with a window over the assessments, the
# trend grouped from the assessments, the education figures counted over the actions — as
# someone who knows SQL would write it by hand. The figures drawn from the latest results
# share one statement (the latest results computed once, each figure aggregated from them).

COUNTED_SQL = "('submitted', 'approved')"

# The perception gap (docs/client-voice.md §4) from the answers themselves: for each
# engagement in ``latest``, its newest round on the same questionnaire with a level given
# and a supplier's view (the round's reconciled assessment, else the latest counted one
# submitted by the round's end); each respondent's and the supplier's score of every
# dimension over the questions asked of the client (all anchored 1–5 scales in the
# default questionnaire: trait (level − 1)/4, reversed where marked, weighted mean × 100;
# our answers matched by code onto the round's version, as voice.selectors does; an
# answer that version cannot take left out); the gap is the respondents' mean minus ours.
GAP_SQL = """
    asked AS (
        SELECT q.id, d.version_id, q.code, q.weight, q.reverse, d.code AS dim, d.kind
          FROM assessments_question q JOIN assessments_dimension d ON d.id = q.dimension_id
         WHERE q.client <> '{}'::jsonb AND q.type = 'scale'
    ), candidate AS (
        SELECT r.id, r.engagement_id, r.version_id, r.opened_at, l.segment, l.process_type,
               l.questionnaire_id, l.submitted_at,
               coalesce(r.reconciled_id, (
                   SELECT a.id FROM assessments_assessment a
                    WHERE a.engagement_id = r.engagement_id
                          AND a.status IN ('submitted', 'approved')
                          AND a.submitted_at <= coalesce(r.closed_at,
                              (r.closes_on + time '23:59:59.999999') AT TIME ZONE %(tz)s)
                    ORDER BY a.submitted_at DESC, a.id DESC LIMIT 1)) AS ours
          FROM voice_round r
          JOIN latest l ON l.engagement_id = r.engagement_id
          JOIN assessments_questionnaireversion v
            ON v.id = r.version_id AND v.questionnaire_id = l.questionnaire_id
         WHERE EXISTS (SELECT 1 FROM voice_invitation i
                         JOIN voice_clientanswer ca ON ca.invitation_id = i.id
                        WHERE i.round_id = r.id AND ca.value IS NOT NULL)
    ), chosen AS MATERIALIZED (
        SELECT DISTINCT ON (engagement_id) *
          FROM candidate WHERE ours IS NOT NULL
         ORDER BY engagement_id, opened_at DESC, id DESC
    ), scores AS (
        SELECT c.engagement_id, i.id AS respondent, q.dim, q.kind,
               100 * sum(q.weight * CASE WHEN q.reverse THEN 1 - (ca.value - 1) / 4.0
                                         ELSE (ca.value - 1) / 4.0 END) / sum(q.weight) AS score
          FROM chosen c
          JOIN voice_invitation i ON i.round_id = c.id
          JOIN voice_clientanswer ca ON ca.invitation_id = i.id AND ca.value IS NOT NULL
          JOIN asked q ON q.id = ca.question_id
         GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT c.engagement_id, NULL::bigint, q.dim, q.kind,
               100 * sum(q.weight * CASE WHEN q.reverse THEN 1 - ((a.value #>> '{}')::int - 1) / 4.0
                                         ELSE ((a.value #>> '{}')::int - 1) / 4.0 END)
                   / sum(q.weight)
          FROM chosen c
          JOIN assessments_answer a
            ON a.assessment_id = c.ours AND NOT a.not_applicable
               AND a.value = ANY(ARRAY['1', '2', '3', '4', '5']::jsonb[])
          -- Our answers are scored as the round's version asks: matched by code.
          JOIN assessments_question qa ON qa.id = a.question_id
          JOIN asked q ON q.version_id = c.version_id AND q.code = qa.code
         GROUP BY 1, 2, 3, 4
    ), dimension_gaps AS MATERIALIZED (
        SELECT g.*, c.segment, c.process_type, c.questionnaire_id, c.submitted_at
          FROM (SELECT engagement_id, dim, kind,
                       avg(score) FILTER (WHERE respondent IS NOT NULL)
                       - max(score) FILTER (WHERE respondent IS NULL) AS gap
                  FROM scores GROUP BY 1, 2, 3) g
          JOIN chosen c ON c.engagement_id = g.engagement_id
         WHERE g.gap IS NOT NULL
    ), engagement_gaps AS (
        SELECT engagement_id, submitted_at,
               avg(gap) FILTER (WHERE kind = 'maturity') AS gap_mean,
               coalesce(bool_or(abs(gap) >= 25) FILTER (WHERE kind = 'maturity'), false) AS wide
          FROM dimension_gaps GROUP BY 1, 2
    )"""


def source_statements(filters: Filters) -> list[str]:
    since = filters.period != "all"
    client_where, engagement_where, engagement_exists = client_and_engagement_where(filters)
    group = "segment" if filters.by == "segment" else "process_type"
    days = cadence.days_sql("r.maturity_level")
    risk, risk_count = risk_sql(filters, "l", "previous_maturity")
    period = f"FILTER (WHERE {in_period(filters, 'l')})"
    actions_since = "AND a.due_date >= %(since_day)s" if since else ""
    return [
        f"""WITH ranked AS (
                SELECT a.id, a.engagement_id, a.submitted_at, a.maturity_score,
                       a.maturity_level, a.defensiveness_index, a.quadrant, v.questionnaire_id,
                       row_number() OVER w AS n, lead(a.maturity_score) OVER w AS previous_maturity
                  FROM assessments_assessment a
                  JOIN assessments_questionnaireversion v ON v.id = a.version_id
                 WHERE a.status IN {COUNTED_SQL} AND a.submitted_at IS NOT NULL
                WINDOW w AS (PARTITION BY a.engagement_id ORDER BY a.submitted_at DESC, a.id DESC)
            ), latest AS MATERIALIZED (
                SELECT r.*, e.client_id, e.process_type, c.segment, c.owner_id, c.name,
                       r.submitted_at + make_interval(days => {days}) AS reassess_due_at
                  FROM ranked r
                  JOIN clients_engagement e ON e.id = r.engagement_id
                  JOIN clients_client c ON c.id = e.client_id
                 WHERE r.n = 1 AND c.is_active {client_where} {engagement_where}
            ), {GAP_SQL}
            SELECT
              (SELECT json_agg(x) FROM (
                  SELECT l.maturity_level, l.quadrant, count(*) {period} AS n,
                         sum(l.maturity_score) {period} AS maturity,
                         count(l.maturity_score) {period} AS maturity_n,
                         sum(l.defensiveness_index) {period} AS defensiveness,
                         count(l.defensiveness_index) {period} AS defensiveness_n,
                         count(*) FILTER (WHERE {risk}) AS at_risk
                    FROM latest l GROUP BY 1, 2) x),
              (SELECT json_agg(x) FROM (
                  SELECT l.client_id, l.name, l.process_type, l.maturity_score,
                         l.defensiveness_index, l.quadrant
                    FROM latest l
                   WHERE l.maturity_score IS NOT NULL AND l.defensiveness_index IS NOT NULL
                         AND {in_period(filters, "l")}
                   ORDER BY l.submitted_at DESC, l.engagement_id DESC
                   LIMIT {SCATTER_LIMIT}) x),
              (SELECT json_agg(x) FROM (
                  SELECT l.{group} AS "group", d.code, avg(d.score) AS average,
                         count(d.score) AS n
                    FROM latest l JOIN assessments_dimensionresult d ON d.assessment_id = l.id
                   WHERE l.questionnaire_id = %(questionnaire)s AND {in_period(filters, "l")}
                   GROUP BY 1, 2 ORDER BY 1, 2) x),
              (SELECT json_agg(x) FROM (
                  SELECT l.engagement_id, l.client_id, l.name, l.process_type, u.first_name,
                         u.last_name, u.username, l.maturity_level, l.maturity_score,
                         l.previous_maturity, l.defensiveness_index, l.submitted_at,
                         l.reassess_due_at, {risk_count} AS risk
                    FROM latest l JOIN accounts_user u ON u.id = l.owner_id
                   WHERE {risk}
                   ORDER BY risk DESC, l.maturity_score ASC NULLS LAST, l.engagement_id
                   LIMIT {AT_RISK_PAGE_SIZE}) x),
              (SELECT json_build_object(
                  'heard', (SELECT count(*) FROM chosen c WHERE {in_period(filters, "c")}),
                  'mean', avg(g.gap_mean), 'wide', count(*) FILTER (WHERE g.wide))
                 FROM engagement_gaps g WHERE {in_period(filters, "g")}),
              (SELECT json_agg(x) FROM (
                  SELECT g.{group} AS "group", g.dim AS code, avg(g.gap) AS gap, count(*) AS n
                    FROM dimension_gaps g
                   WHERE g.questionnaire_id = %(questionnaire)s AND {in_period(filters, "g")}
                   GROUP BY 1, 2 ORDER BY 1, 2) x)""",
        f"""SELECT count(*) FROM clients_client c
             WHERE c.is_active {client_where} {engagement_exists}""",
        f"""SELECT date_trunc('month', a.submitted_at AT TIME ZONE %(tz)s)::date,
                   count(*), sum(a.maturity_score), count(a.maturity_score),
                   sum(a.defensiveness_index), count(a.defensiveness_index)
              FROM assessments_assessment a
              JOIN clients_engagement e ON e.id = a.engagement_id
              JOIN clients_client c ON c.id = e.client_id
             WHERE a.status IN {COUNTED_SQL} AND a.submitted_at IS NOT NULL
                   AND c.is_active {client_where} {engagement_where}
                   {"AND a.submitted_at >= %(since)s" if since else ""}
             GROUP BY 1 ORDER BY 1""",
        f"""SELECT a.owner_id, u.first_name, u.last_name, u.username,
                   count(*) FILTER (WHERE a.status = 'done'),
                   count(*) FILTER (WHERE a.status = 'planned' AND a.due_date < %(today)s),
                   count(*) FILTER (WHERE a.status = 'planned'),
                   count(*) FILTER (WHERE a.status <> 'planned' OR a.due_date < %(today)s)
              FROM education_educationaction a
              JOIN clients_client c ON c.id = a.client_id
              LEFT JOIN clients_engagement e ON e.id = a.engagement_id
              JOIN accounts_user u ON u.id = a.owner_id
             WHERE c.is_active {client_where} {engagement_where} {actions_since}
             GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 4, 1""",
        f"""SELECT a.action_type, count(*), sum(a.uplift), sum(a.maturity_delta),
                   count(a.maturity_delta), sum(a.defensiveness_delta),
                   count(a.defensiveness_delta)
              FROM education_educationaction a
              JOIN clients_client c ON c.id = a.client_id
              LEFT JOIN clients_engagement e ON e.id = a.engagement_id
             WHERE a.uplift IS NOT NULL AND c.is_active {client_where} {engagement_where}
                   {actions_since}
             GROUP BY 1""",
    ]


def run_source(filters: Filters) -> list[list[tuple[Any, ...]]]:
    results = []
    with connection.cursor() as cursor:
        for sql in source_statements(filters):
            cursor.execute(sql, raw_params(filters))
            results.append(cursor.fetchall())
    return results


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
    codes = [slot_column(d.slot) for d in columns if d.slot]
    global QUESTIONNAIRE
    QUESTIONNAIRE = columns[0].questionnaire if columns else 0
    print(
        "page: a director's request, whole stack; figures: dashboards.selectors.portfolio;\n"
        "projection SQL: the figures' aggregates by hand on the same standings and summaries;\n"
        "source SQL: the same aggregates by hand from the assessments and actions themselves\n"
    )
    print(
        f"{'filters':<58} {'page p50':>9} {'p95':>7} {'figures p50':>12} {'p95':>7} "
        f"{'queries':>8} {'proj. SQL p50':>14} {'p95':>7} {'source SQL p50':>15} {'p95':>7} "
        f"{'page/source':>12} {'page/proj.':>11} {'figures/proj.':>14} {'same':>5}"
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
        src_p50, src_p95 = timed(
            lambda filters=filters: run_source(filters), max(5, args.runs // 4), warmup=1
        )
        differences = compare(selectors.portfolio(scope), run_source(filters))
        print(
            f"{label:<58} {page_p50:>7.1f}ms {page_p95:>5.1f}ms {fig_p50:>10.1f}ms "
            f"{fig_p95:>5.1f}ms {len(statements):>8} {raw_p50:>12.1f}ms {raw_p95:>5.1f}ms "
            f"{src_p50:>13.1f}ms {src_p95:>5.1f}ms {page_p95 / src_p95:>11.2f}x "
            f"{page_p95 / raw_p95:>10.2f}x {fig_p95 / raw_p95:>13.2f}x "
            f"{'yes' if not differences else 'NO':>5}"
        )
        for difference in differences:
            print("    differs:", difference)
        if args.explain:
            with connection.cursor() as cursor:
                for sql in [*raw_statements(filters, codes), *source_statements(filters)]:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, raw_params(filters))
                    plan = [row[0] for row in cursor.fetchall()]
                    print("   ", plan[-1], "|", " ".join(sql.split())[:60])


def compare(figures: Figures, source: list[list[tuple[Any, ...]]]) -> list[str]:
    """Where the dashboard's figures and the source SQL's disagree (an empty list: the
    same aggregates). The summaries are as of their last rebuild, so run this on a
    portfolio nobody is changing."""
    (standing_figures,), ((active,),), trend, effort, uplift = source
    counts, scatter, heatmap, at_risk, _tiles, gap_cells = (part or [] for part in standing_figures)
    gap_tiles: dict[str, Any] = standing_figures[4]
    found: list[str] = []

    def check(name: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
                pairs = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
                ours, theirs = [a for a, _b in pairs], [b for _a, b in pairs]
            found.append(f"{name}: dashboard {str(ours)[:200]} ≠ source {str(theirs)[:200]}")

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    tiles = figures.tiles
    check("active clients", tiles.active_clients, active)
    check("assessed", tiles.assessed, sum(c["n"] for c in counts))
    check("at risk", figures.at_risk.total, sum(c["at_risk"] for c in counts))
    check(
        "levels",
        {r.level: r.engagements for r in figures.levels if r.engagements},
        {
            level: sum(c["n"] for c in counts if c["maturity_level"] == level)
            for level in sorted({c["maturity_level"] for c in counts if c["maturity_level"]})
        },
    )
    check(
        "scatter",
        [(p.client, p.maturity, p.defensiveness) for p in figures.scatter],
        [(p["client_id"], r(p["maturity_score"]), r(p["defensiveness_index"])) for p in scatter],
    )
    check(
        "heatmap",
        sorted((c.group, c.dimension, c.average) for c in figures.heatmap),
        sorted((c["group"], c["code"], r(c["average"])) for c in heatmap if c["n"]),
    )
    check(
        "perception gap tile",
        (tiles.heard, tiles.average_gap, tiles.wide_gaps),
        (
            gap_tiles["heard"],
            None if gap_tiles["mean"] is None else r(gap_tiles["mean"] / 25),
            gap_tiles["wide"],
        ),
    )
    check(
        "gap heatmap",
        sorted((c.group, c.dimension, c.gap) for c in figures.heatmap if c.heard),
        sorted((c["group"], c["code"], r(c["gap"] / 25)) for c in gap_cells),
    )
    check(
        "at-risk page",
        [row.engagement for row in figures.at_risk.items],
        [row["engagement_id"] for row in at_risk],
    )
    check(
        "trend",
        [(t.month, t.assessments, t.average_maturity) for t in figures.trend],
        [
            (m.isoformat()[:7], n, r(total / count) if count else None)
            for m, n, total, count, *_ in trend
        ],
    )
    check(
        "effort",
        [(e.owner, e.done, e.overdue, e.open, e.due) for e in figures.effort],
        [(row[0], *row[4:]) for row in effort],
    )
    check(
        "uplift",
        sorted((u.action_type, u.measured, u.average_uplift) for u in figures.uplift),
        sorted((row[0], row[1], r(row[2] / row[1])) for row in uplift),
    )
    return found


if __name__ == "__main__":
    main()
