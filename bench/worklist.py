"""My actions for the demo account manager, at the demo's size and ten times it.

It seeds the demo portfolio (``seed_demo --clients 40``: the demo manager owns about 220
actions) in a throwaway database, then requests the first view of My actions through
Django's whole stack as that manager (session, middleware, the worklist's queries,
template), and prints the page's HTML size, its server time (p50, p95 over ``--runs``)
and its SQL statements — beside the worklist's own SQL run by hand (each group's count and
the first page's rows with their client, engagement, owner and template). Then it copies
the manager's actions nine times (plan-less, due dates spread over the year) and measures
again. Targets (issue 14): ≤ 100 KB of HTML, ≤ 150 ms server time, the same number of
queries at both sizes.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/worklist.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta
from typing import Any

from _django import require_postgresql, throwaway_database
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from education.models import ActionStatus, EducationAction
from web.demo import seed_demo

RAW = """
SELECT count(*) FILTER (WHERE a.status = 'planned' AND a.due_date < %(today)s),
       count(*) FILTER (WHERE a.status = 'planned' AND a.due_date BETWEEN %(today)s AND %(week)s),
       count(*) FILTER (WHERE a.status = 'planned' AND a.due_date > %(week)s),
       count(*) FILTER (WHERE a.status <> 'planned' AND a.completed_at >= %(closed)s)
  FROM education_educationaction a WHERE a.owner_id = %(owner)s;
SELECT a.*, c.name, e.process_type, u.username, t.title
  FROM education_educationaction a
  JOIN clients_client c ON c.id = a.client_id
  JOIN clients_engagement e ON e.id = a.engagement_id
  JOIN accounts_user u ON u.id = a.owner_id
  LEFT JOIN education_actiontemplate t ON t.id = a.template_id
 WHERE a.owner_id = %(owner)s AND a.status = 'planned' AND a.due_date < %(today)s
 ORDER BY a.due_date, a.id LIMIT 25
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(manager: User, runs: int) -> None:
    browser = HttpClient()
    browser.force_login(manager)
    url = "/education/"
    for _ in range(5):
        browser.get(url)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = browser.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    size = len(response.content)
    today = timezone.localdate()
    parameters: dict[str, Any] = {
        "owner": manager.pk,
        "today": today,
        "week": today + timedelta(days=7),
        "closed": timezone.now() - timedelta(days=14),
    }
    raw = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            started = time.perf_counter()
            for statement in RAW.split(";"):
                cursor.execute(statement, parameters)
                cursor.fetchall()
            raw.append((time.perf_counter() - started) * 1000)
    actions = EducationAction.objects.filter(owner=manager)
    print(
        f"{actions.count():>6,} actions ({actions.filter(status=ActionStatus.PLANNED).count():,}"
        f" open): HTML {size / 1024:6.1f} KB, {len(captured.captured_queries)} queries; "
        f"page p50 {statistics.median(times):6.1f} ms, p95 {percentile(times, 0.95):6.1f} ms; "
        f"the worklist's SQL by hand p50 {statistics.median(raw):5.1f} ms "
        f"(page ÷ SQL {statistics.median(times) / statistics.median(raw):4.1f}×)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default="maturity_bench_worklist")
    args = parser.parse_args()
    require_postgresql()
    with throwaway_database(args.database):
        seed_demo(clients=40)
        manager = User.objects.get(username="manager")
        measure(manager, args.runs)
        originals = list(EducationAction.objects.filter(owner=manager))
        copies = []
        for round_ in range(1, 10):
            for action in originals:
                action.pk = None
                action.plan = None
                action.title = f"{action.title or action.action_type} ({round_})"
                action.due_date = action.due_date + timedelta(days=round_ * 30)
                copies.append(action)
        EducationAction.objects.bulk_create(copies, batch_size=2000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE education_educationaction")
        measure(manager, args.runs)
        print("targets: ≤ 100 KB of HTML, ≤ 150 ms, the same queries at both sizes")


if __name__ == "__main__":
    main()
