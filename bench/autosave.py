"""Autosave: one answer through Django's whole stack beside a raw conditional UPDATE, and a
whole assessment filled the browser's way, at 100 and at 10,000 assessments.

For each portfolio size it prints:

- **one autosave**: an htmx POST of one answer through ``django.test.Client`` — session,
  middleware, the access check, the conditional write, the progress and the partial's
  template — beside the least any autosave must do: ONE autocommit ``UPDATE`` of the
  answer with its revision check, sent straight down the connection. p50 and p95 of
  ``--saves`` each, alternating, the statements per autosave and the ratio of the p50s
  (target: within 4×); beside them **the stack's floor**, an empty login-required POST
  through the same middleware and session (what any signed-in request here costs before
  its view runs), and what the autosave costs above that floor, against the raw UPDATE;
- **the whole fill**: start an assessment, open the form, 48 autosaves, submit — the
  requests a browser makes — p50 and p95 over ``--flows`` assessments, with the statements
  of one (target: p50 ≤ 250 ms);
- with ``--explain``, the plan of the fill page's access-checked lookup of the assessment
  (``EXPLAIN ANALYZE``) for an account manager who owns a twentieth of the portfolio and is
  on the team of another tenth.

The portfolio — clients each with a team, engagements, submitted assessments of the default
questionnaire (48 questions) with every answer — is inserted in bulk into a throwaway
database, ``maturity_bench_autosave`` unless told otherwise, created next to the one in
``DATABASE_URL`` and dropped at the end; the 10,000 reuse the first 100.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/maturity \\
        .venv/bin/python bench/autosave.py [--saves 300] [--flows 15] [--explain]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from contextlib import nullcontext
from typing import Any
from urllib.parse import urlencode

# Logs as production writes them (one JSON line a request, on stderr), not the console's.
os.environ.setdefault("LOG_FORMAT", "json")

from _django import percentiles, require_postgresql, throwaway_database
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from assessments import question_types
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Question,
    Questionnaire,
)
from assessments.selectors import assessments_visible_to, questions_by_id
from assessments.services import assessment_start
from clients.models import Client, Country, Engagement, ProcessType, Segment, Size

SIZES = (100, 10_000)
MANAGERS = 20
# What htmx sends: the form urlencoded, and its header.
HTMX: dict[str, Any] = {
    "HTTP_HX_REQUEST": "true",
    "content_type": "application/x-www-form-urlencoded",
}

RAW_UPDATE = """
UPDATE assessments_answer
SET value = %s::jsonb, revision = revision + 1, updated_at = now(), updated_by_id = %s
WHERE assessment_id = %s AND question_id = %s AND revision = %s
RETURNING revision
"""


FLOOR_URL = "/__bench_floor__/"


@login_required
@require_POST
def _floor_view(request: HttpRequest) -> HttpResponse:
    """Nothing: what a signed-in POST costs before any view's own work."""
    return HttpResponse(status=204)


def add_floor_url() -> None:
    import maturity.urls

    maturity.urls.urlpatterns.insert(0, path(FLOOR_URL.strip("/") + "/", _floor_view))
    clear_url_caches()


def form_value(question: Question, rng: random.Random) -> str:
    """What a browser sends for a plausible answer of ``question``."""
    value = question_types.get(question.type).demo(question, rng.uniform(1, 5), rng)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def grow(total: int, version: Any, managers: list[User], rng: random.Random) -> None:
    """Clients (each owned by one manager, on the team of two others), engagements and
    submitted assessments with all their answers, until there are ``total``."""
    have = Assessment.objects.filter(status=AssessmentStatus.SUBMITTED).count()
    start = have
    clients = Client.objects.bulk_create(
        Client(
            name=f"Cliente de Bancada {i:05d} Ltda.",
            segment=rng.choice(Segment.values),
            size=rng.choice(Size.values),
            country=rng.choice(Country.values),
            owner=managers[i % MANAGERS],
        )
        for i in range(start, total)
    )
    Client.team_members.through.objects.bulk_create(
        Client.team_members.through(client_id=client.pk, user_id=managers[(i + k) % MANAGERS].pk)
        for i, client in enumerate(clients, start)
        for k in (1, 7)
    )
    engagements = Engagement.objects.bulk_create(
        Engagement(client=client, process_type=rng.choice(ProcessType.values)) for client in clients
    )
    now = timezone.now()
    assessments = Assessment.objects.bulk_create(
        Assessment(
            engagement=engagement,
            version=version,
            assessor=engagement.client.owner,
            status=AssessmentStatus.SUBMITTED,
            submitted_at=now,
        )
        for engagement in engagements
    )
    questions = list(questions_by_id(version).values())
    Answer.objects.bulk_create(
        (
            Answer(
                assessment=assessment,
                question=question,
                value=question_types.get(question.type).demo(question, 3, rng),
                updated_at=now,
                updated_by=assessment.assessor,
            )
            for assessment in assessments
            for question in questions
        ),
        batch_size=5_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # The load's pages written now, not by the checkpointer during the measurement
        # (which made runs of the same code differ by half). Needs a superuser or
        # pg_checkpoint; without either the run is only noisier.
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError as error:
            print(f"(no CHECKPOINT before measuring: {error})")


def own_engagement(user: User, rng: random.Random) -> Engagement:
    client = Client.objects.create(
        name=f"Cliente do Avaliador {rng.randrange(10**9)}",
        segment=rng.choice(Segment.values),
        size=rng.choice(Size.values),
        country=rng.choice(Country.values),
        owner=user,
    )
    return Engagement.objects.create(client=client, process_type=rng.choice(ProcessType.values))


def one_autosave(
    browser: HttpClient, user: User, saves: int, rng: random.Random
) -> tuple[list[float], list[float], list[float], tuple[int, int, int]]:
    """``saves`` autosaves through Django, as many raw UPDATEs and as many empty signed-in
    POSTs, alternating; the times in ms of each, and the statements of one of each."""
    mine = assessment_start(engagement=own_engagement(user, rng), by=user)[0]
    theirs = assessment_start(engagement=own_engagement(user, rng), by=user)[0]
    questions = list(questions_by_id(mine.version).values())
    now = timezone.now()
    Answer.objects.bulk_create(
        Answer(assessment=a, question=q, value=None, updated_at=now, updated_by=user)
        for a in (mine, theirs)
        for q in questions
    )
    revisions = dict.fromkeys(((a.pk, q.pk) for a in (mine, theirs) for q in questions), 1)
    assert browser.get(reverse("assessments:fill", args=[mine.pk])).status_code == 200
    django_ms: list[float] = []
    raw_ms: list[float] = []
    floor_ms: list[float] = []
    django_queries = raw_queries = floor_queries = 0
    for turn in range(saves + 5):  # the first five warm up
        question = questions[turn % len(questions)]
        value = form_value(question, rng)
        url = reverse("assessments:answer", args=[mine.pk, question.pk])
        data = {"value": value, "revision": revisions[mine.pk, question.pk], "note": ""}
        # Statements are counted on the warm-up turns only: counting them costs time.
        counting = CaptureQueriesContext(connection) if turn < 5 else nullcontext()
        with counting as captured:
            started = time.perf_counter()
            response = browser.post(url, urlencode(data), **HTMX)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content[:300]
        revisions[mine.pk, question.pk] += 1
        if captured is not None:
            django_queries = len(captured.captured_queries)
        parsed = question.spec.parse(value)
        counting = CaptureQueriesContext(connection) if turn < 5 else nullcontext()
        with counting as captured:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    RAW_UPDATE,
                    [
                        Answer._meta.get_field("value").get_db_prep_save(parsed, connection),
                        user.pk,
                        theirs.pk,
                        question.pk,
                        revisions[theirs.pk, question.pk],
                    ],
                )
                assert cursor.fetchone() is not None
            raw_elapsed = time.perf_counter() - started
        revisions[theirs.pk, question.pk] += 1
        if captured is not None:
            raw_queries = len(captured.captured_queries)
        counting = CaptureQueriesContext(connection) if turn < 5 else nullcontext()
        with counting as captured:
            started = time.perf_counter()
            empty = browser.post(FLOOR_URL, urlencode(data), **HTMX)
            floor_elapsed = time.perf_counter() - started
        assert empty.status_code == 204, empty.status_code
        if captured is not None:
            floor_queries = len(captured.captured_queries)
        if turn >= 5:
            django_ms.append(1000 * elapsed)
            raw_ms.append(1000 * raw_elapsed)
            floor_ms.append(1000 * floor_elapsed)
    return django_ms, raw_ms, floor_ms, (django_queries, raw_queries, floor_queries)


def whole_fill(
    browser: HttpClient, user: User, flows: int, rng: random.Random
) -> tuple[list[float], int]:
    """Start, open the form, answer all 48, submit — as the browser does — ``flows`` times
    after one to warm up: the times in ms and the statements of one."""
    times: list[float] = []
    statements = 0
    for turn in range(flows + 1):
        engagement = own_engagement(user, rng)
        with CaptureQueriesContext(connection) if not turn else nullcontext() as captured:
            started = time.perf_counter()
            response = browser.post(reverse("assessments:start", args=[engagement.pk]))
            assert response.status_code == 302, response.status_code
            assert browser.get(response["Location"]).status_code == 200
            assessment = Assessment.objects.filter(engagement=engagement).only("pk").get()
            for question in questions_by_id(assessment.version).values():
                saved = browser.post(
                    reverse("assessments:answer", args=[assessment.pk, question.pk]),
                    urlencode({"value": form_value(question, rng), "revision": "0", "note": ""}),
                    **HTMX,
                )
                assert saved.status_code == 200, saved.content[:300]
            response = browser.post(reverse("assessments:submit", args=[assessment.pk]))
            assert response.status_code == 302, response.status_code
            elapsed = time.perf_counter() - started
        assert Assessment.objects.get(pk=assessment.pk).status == AssessmentStatus.SUBMITTED
        if turn:
            times.append(1000 * elapsed)
        elif captured is not None:  # the warm-up, counted; the bench's lookup of the new id
            statements = len(captured.captured_queries) - 1  # is not the browser's
    return times, statements


def explain(user: User) -> None:
    target = Assessment.objects.filter(assessor=user, status=AssessmentStatus.SUBMITTED).first()
    assert target is not None
    query = (
        assessments_visible_to(user)
        .select_related("engagement__client", "version__questionnaire", "assessor", "reviewed_by")
        .filter(pk=target.pk)
    )
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    print("  the fill page's access-checked lookup, EXPLAIN ANALYZE:")
    for line in plan:
        print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--flows", type=int, default=15)
    parser.add_argument("--database", default="maturity_bench_autosave")
    parser.add_argument("--explain", action="store_true", help="the access check's plan")
    args = parser.parse_args()
    require_postgresql()
    with throwaway_database(args.database):
        rng = random.Random(2026)
        questionnaire = Questionnaire.objects.get(is_default=True)
        version = questionnaire.current_version()
        assert version is not None
        password = make_password(None)
        managers = User.objects.bulk_create(
            User(username=f"bench-manager-{i}", role=Role.ACCOUNT_MANAGER, password=password)
            for i in range(MANAGERS)
        )
        user = managers[0]
        add_floor_url()
        browser = HttpClient()
        browser.force_login(user)
        questions = len(questions_by_id(version))
        print(
            f"default questionnaire ({questions} questions); {MANAGERS} account managers, each "
            "client owned by one and on the team of two others; the bench's manager owns a "
            f"twentieth\n{'':42}{'p50 ms':>9}{'p95 ms':>9}{'statements':>12}"
        )
        for size in SIZES:
            grow(size, version, managers, rng)
            print(f"— {size:,} submitted assessments")
            django_ms, raw_ms, floor_ms, statements = one_autosave(browser, user, args.saves, rng)
            for label, samples, queries in zip(
                (
                    "one autosave through Django (htmx)",
                    "one raw conditional UPDATE",
                    "the floor: an empty signed-in POST",
                ),
                (django_ms, raw_ms, floor_ms),
                statements,
                strict=True,
            ):
                p50, p95 = percentiles(samples)
                print(f"  {label:40}{p50:9.2f}{p95:9.2f}{queries:12}")
            autosave, raw, floor = (statistics.median(x) for x in (django_ms, raw_ms, floor_ms))
            print(f"  autosave / raw UPDATE (p50): {autosave / raw:.1f}×  (target: within 4×)")
            print(
                f"  autosave above the floor / raw UPDATE: {(autosave - floor) / raw:.1f}×; "
                f"the floor alone: {floor / raw:.1f}×"
            )
            fills, flow_statements = whole_fill(browser, user, args.flows, rng)
            p50, p95 = percentiles(fills)
            label = f"start + {questions} autosaves + submit"
            print(f"  {label:40}{p50:9.1f}{p95:9.1f}{flow_statements:12}  (target: p50 ≤ 250 ms)")
            if args.explain:
                explain(user)


if __name__ == "__main__":
    main()
