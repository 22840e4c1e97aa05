"""An integration's write path: create a draft, answer all 48 questions, submit — through the
API (a token, the whole Django stack), beside the same work done by the services alone and
beside one raw statement that inserts a submitted assessment with its 48 answers.

For each of ``--runs`` assessments on a portfolio of 10,000 submitted ones (clients with
teams, as in ``autosave.py``) it prints the p50 and p95 of each call and of the three
together, with the statements each sent, the services' time, the raw insert's, and the
ratios. The raw insert is made once right after each run of the API (the three calls, or
the import), and the ratio is also given run by run (the median of each run over its own
insert), which a busy minute of a shared machine moves less. Issue 15's targets: the
three calls ≤ 15 ms p50 with at most 12 statements; the single import call ≤ 10 ms p50.
The calls are sent without an ``Idempotency-Key``; ``--keyed`` sends one on each (what a
careful integration does) and prints what the key costs. ``--split`` also prints, for each
call, how long it waited on PostgreSQL and on Redis, and the rest (Python and the GIL).
``--floor`` also runs the three calls and the import, run by run in turn, through the
whole stack and through a bare one — no middleware, no token (the user forced in, as
DRF's test client can), no rate limit: no way to run the product, but the lower bound
of what the views and services cost over HTTP whatever the stack's guarantees cost.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/maturity \\
        .venv/bin/python bench/api_write.py [--runs 50] [--size 10000] [--keyed] [--split] \\
        [--floor]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

os.environ.setdefault("LOG_FORMAT", "json")
# The rate limits are checked on every call as in production, but set high enough that a
# run (or two runs within a minute) is not refused.
os.environ.setdefault("API_RATE_PER_TOKEN", "100000/min")
os.environ.setdefault("API_RATE_PER_USER", "100000/min")

from _django import percentiles, require_postgresql, throwaway_database
from autosave import MANAGERS, grow, own_engagement
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role, User
from api.services import api_token_issue
from api.throttles import ApiRateThrottle
from assessments import question_types
from assessments.models import Question, Questionnaire
from assessments.selectors import questions_by_id
from assessments.services import AnswerInput, answers_save, assessment_start, assessment_submit
from core.tasks import publisher

RAW_INSERT = """
WITH made AS (
    INSERT INTO assessments_assessment
        (engagement_id, version_id, assessor_id, status, submitted_at, created_at, updated_at,
         result, completeness, quadrant, maturity_level)
    VALUES (%s, %s, %s, 'submitted', now(), now(), now(), '{}'::jsonb, 1, '', 0)
    RETURNING id
)
INSERT INTO assessments_answer
    (assessment_id, question_id, value, not_applicable, na_reason, note, revision,
     updated_at, updated_by_id)
SELECT made.id, a.question_id, a.value, false, '', '', 1, now(), %s
FROM made, unnest(%s::bigint[], %s::jsonb[]) AS a (question_id, value)
"""


# Each run of the API is followed by one raw insert (a submitted assessment with its 48
# answers, on an engagement of its own), timed as that run's yardstick.
RAW_BESIDE = "raw INSERT, one after each run"


def answer_of(question: Question, rng: random.Random) -> Any:
    return question_types.get(question.type).demo(question, rng.uniform(1, 5), rng)


def answers_to(questions: list[Question], rng: random.Random) -> list[dict[str, Any]]:
    """An answer to each of ``questions``, as the API takes them."""
    return [{"question": q.pk, "value": answer_of(q, rng)} for q in questions]


class Waits:
    """With ``--split``: how long this thread waited on PostgreSQL (psycopg's wait for a
    result) and on Redis (a reply read) during each call; the rest of a call's time is
    Python — ours, Django's, DRF's — and waiting for the GIL."""

    def __init__(self) -> None:
        self.pg = self.redis = 0.0
        self.calls: dict[str, list[tuple[float, float, float]]] = {}

    def install(self) -> None:
        import psycopg
        from redis.connection import AbstractConnection

        main = threading.main_thread()

        def timing(original: Any, attribute: str) -> Any:
            def waited(*args: Any, **kwargs: Any) -> Any:
                if threading.current_thread() is not main:  # (the publisher's thread)
                    return original(*args, **kwargs)
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    setattr(
                        self, attribute, getattr(self, attribute) + time.perf_counter() - started
                    )

            return waited

        psycopg.Connection.wait = timing(psycopg.Connection.wait, "pg")  # type: ignore[method-assign]
        AbstractConnection.read_response = timing(AbstractConnection.read_response, "redis")  # type: ignore[method-assign]

    def start(self) -> None:
        self.pg = self.redis = 0.0

    def record(self, name: str, elapsed: float) -> None:
        self.calls.setdefault(name, []).append((elapsed, 1000 * self.pg, 1000 * self.redis))

    def print(self) -> None:
        heading = "where each call waited (p50 ms)"
        print(f"  {heading:42}{'total':>9}{'PostgreSQL':>12}{'Redis':>8}{'the rest':>10}")
        for name, samples in self.calls.items():
            total, pg, redis = (statistics.median(column) for column in zip(*samples, strict=True))
            print(f"  {name:42}{total:9.2f}{pg:12.2f}{redis:8.2f}{total - pg - redis:10.2f}")


SPLIT: Waits | None = None  # --split


def timed(count: list[int] | None) -> Any:
    return CaptureQueriesContext(connection) if count is not None else nullcontext()


def through_the_api(
    api: APIClient,
    user: User,
    questions: list[Question],
    runs: int,
    rng: random.Random,
    keyed: bool,
) -> dict[str, tuple[list[float], int]]:
    """``runs`` times: POST the draft (of the default questionnaire's current version,
    whose ``questions`` these are), POST its answers, POST the submit — then one raw
    insert of the same work (RAW_BESIDE), so that each run has its own yardstick."""
    times: dict[str, list[float]] = {
        "create": [],
        "answers": [],
        "submit": [],
        "all three": [],
        RAW_BESIDE: [],
    }
    statements: dict[str, int] = {}
    for turn in range(runs + 3):  # three to warm up; the last counts the statements
        engagement = own_engagement(user, rng)

        def call(name: str, path: str, body: Any, turn: int = turn) -> Any:
            headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if keyed else {}
            with timed([] if turn == 2 else None) as captured:
                if SPLIT is not None:
                    SPLIT.start()
                started = time.perf_counter()
                response = api.post(path, body, format="json", **headers)
                elapsed = 1000 * (time.perf_counter() - started)
            assert response.status_code in (200, 201), (path, response.content[:300])
            if SPLIT is not None and turn >= 3:
                SPLIT.record(f"API: {name}", elapsed)
            if captured is not None:
                statements[name] = len(captured.captured_queries)
            if turn >= 3:
                times[name].append(elapsed)
            return response.json(), elapsed

        draft, created = call("create", "/api/v1/assessments/", {"engagement": engagement.pk})
        answers = answers_to(questions, rng)
        _, answered = call("answers", f"/api/v1/assessments/{draft['id']}/answers/", answers)
        _, submitted = call("submit", f"/api/v1/assessments/{draft['id']}/submit/", {})
        inserted = raw_insert(user, questions, rng)
        if turn >= 3:
            times["all three"].append(created + answered + submitted)
            times[RAW_BESIDE].append(inserted)
    statements["all three"] = statements["create"] + statements["answers"] + statements["submit"]
    statements[RAW_BESIDE] = 1
    return {name: (samples, statements[name]) for name, samples in times.items()}


def through_the_import(
    api: APIClient,
    user: User,
    questions: list[Question],
    runs: int,
    rng: random.Random,
    keyed: bool,
) -> tuple[list[float], list[float], int]:
    """``runs`` times: POST one finished assessment (draft, answers and submit in one
    call) to ``/api/v1/assessments/import/``, then one raw insert; the times of each and
    the import's statements."""
    times: list[float] = []
    inserts: list[float] = []
    statements = 0
    for turn in range(runs + 3):
        engagement = own_engagement(user, rng)
        body = {
            "engagement": engagement.pk,
            "answers": answers_to(questions, rng),
        }
        headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if keyed else {}
        with timed([] if turn == 2 else None) as captured:
            if SPLIT is not None:
                SPLIT.start()
            started = time.perf_counter()
            response = api.post("/api/v1/assessments/import/", body, format="json", **headers)
            elapsed = 1000 * (time.perf_counter() - started)
        assert response.status_code == 201, response.content[:300]
        if SPLIT is not None and turn >= 3:
            SPLIT.record("API: one import", elapsed)
        if captured is not None:
            statements = len(captured.captured_queries)
        inserted = raw_insert(user, questions, rng)
        if turn >= 3:
            times.append(elapsed)
            inserts.append(inserted)
    return times, inserts, statements


def the_floor(api: APIClient, runs: int) -> list[float]:
    """An authenticated GET of ``/api/v1/me/``: the token's lookup, both rate limits, the
    middleware — what every call costs before its own work."""
    times: list[float] = []
    for turn in range(runs + 3):
        started = time.perf_counter()
        response = api.get("/api/v1/me/")
        elapsed = 1000 * (time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
        if turn >= 3:
            times.append(elapsed)
    return times


def through_the_services(user: User, runs: int, rng: random.Random) -> tuple[list[float], int]:
    times: list[float] = []
    statements = 0
    for turn in range(runs + 3):
        engagement = own_engagement(user, rng)
        with timed([] if turn == 2 else None) as captured:
            elapsed = the_services_once(engagement, user, rng)
        if captured is not None:
            statements = len(captured.captured_queries)
        if turn >= 3:
            times.append(elapsed)
    return times, statements


def the_services_once(engagement: Any, user: User, rng: random.Random) -> float:
    """Start, answer (the whole questionnaire) and submit by the services alone: ms."""
    started = time.perf_counter()
    assessment = assessment_start(engagement=engagement, by=user)[0]
    questions = list(questions_by_id(assessment.version).values())
    answers_save(
        assessment=assessment,
        by=user,
        answers=[AnswerInput(question=q.pk, value=answer_of(q, rng)) for q in questions],
    )
    assessment_submit(assessment=assessment, by=user)
    return 1000 * (time.perf_counter() - started)


def raw_insert(user: User, questions: list[Question], rng: random.Random) -> float:
    """One RAW_INSERT of a submitted assessment of a new engagement with an answer to each
    of ``questions`` (the default questionnaire's current version's): its time in ms."""
    engagement = own_engagement(user, rng)
    version_id = questions[0].version_id
    values = [json.dumps(answer_of(q, rng)) for q in questions]
    # Not while the publisher's thread still runs the run's publish (its GIL and CPU).
    publisher.flush(5)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            RAW_INSERT,
            [engagement.pk, version_id, user.pk, user.pk, [q.pk for q in questions], values],
        )
    return 1000 * (time.perf_counter() - started)


def bare_client(user: User) -> APIClient:
    """A client whose requests skip the token: only ``the_stacks_share`` uses it, inside
    ``stripped`` (no middleware, no rate limit)."""
    bare = APIClient()
    bare.force_authenticate(user=user)  # DRF's own: no Authorization header, no lookup
    return bare


@contextmanager
def stripped(bare: APIClient) -> Iterator[None]:
    """No middleware for ``bare``'s requests, no rate limit for anyone's, until the
    block ends."""
    middleware, allow = settings.MIDDLEWARE, ApiRateThrottle.allow_request
    settings.MIDDLEWARE = []
    bare.handler.load_middleware()
    ApiRateThrottle.allow_request = lambda self, request, view: True  # type: ignore[method-assign]
    try:
        yield
    finally:
        settings.MIDDLEWARE = middleware
        ApiRateThrottle.allow_request = allow  # type: ignore[method-assign]


def the_stacks_share(
    api: APIClient, user: User, questions: list[Question], runs: int, rng: random.Random
) -> None:
    """``--floor``: each run, the three calls and then the import through the whole stack
    and through ``bare_client`` (in turn, the order alternating each run), then the
    services alone and one raw insert; the p50 and p95 of each."""
    bare = bare_client(user)
    times: dict[str, list[float]] = {}

    def post(client: APIClient, path: str, body: Any) -> tuple[Any, float]:
        started = time.perf_counter()
        response = client.post(path, body, format="json")
        elapsed = 1000 * (time.perf_counter() - started)
        assert response.status_code in (200, 201), (path, response.content[:300])
        return response.json(), elapsed

    def own() -> int:
        return own_engagement(user, rng).pk

    def one_run(client: APIClient) -> tuple[float, float]:
        draft, created = post(client, "/api/v1/assessments/", {"engagement": own()})
        path = f"/api/v1/assessments/{draft['id']}/answers/"
        _, answered = post(client, path, answers_to(questions, rng))
        _, submitted = post(client, f"/api/v1/assessments/{draft['id']}/submit/", {})
        body = {"engagement": own(), "answers": answers_to(questions, rng)}
        _, imported = post(client, "/api/v1/assessments/import/", body)
        return created + answered + submitted, imported

    for turn in range(runs + 3):
        ways = [("the whole stack", api), ("bare", bare)]
        if turn % 2:
            ways.reverse()
        for name, client in ways:
            with stripped(bare) if client is bare else nullcontext():
                three, single = one_run(client)
            publisher.flush(5)
            if turn >= 3:
                times.setdefault(f"three calls, {name}", []).append(three)
                times.setdefault(f"the import, {name}", []).append(single)
        services = the_services_once(own_engagement(user, rng), user, rng)
        publisher.flush(5)
        inserted = raw_insert(user, questions, rng)
        if turn >= 3:
            times.setdefault("the services alone, the same three steps", []).append(services)
            times.setdefault("raw INSERT", []).append(inserted)
    print(
        "the stack's share, run by run (bare: no middleware, no token, no rate limit —"
        " a lower bound, not a way to run)"
    )
    for name in (
        "three calls, the whole stack",
        "three calls, bare",
        "the import, the whole stack",
        "the import, bare",
        "the services alone, the same three steps",
        "raw INSERT",
    ):
        p50, p95 = percentiles(times[name])
        print(f"  {name:42}{p50:9.2f}{p95:9.2f}")


def paired(samples: list[float], inserts: list[float]) -> float:
    """The median of each run's time over the raw insert made right after it: a ratio that
    a slow minute moves less than the ratio of two medians taken minutes apart."""
    return statistics.median(a / b for a, b in zip(samples, inserts, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--keyed", action="store_true", help="send an Idempotency-Key")
    parser.add_argument(
        "--split",
        action="store_true",
        help="also print how long each call waited on PostgreSQL and Redis, and the rest",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run the calls through a bare stack (no middleware, token or rate limit)",
    )
    parser.add_argument("--database", default="maturity_bench_api_write")
    args = parser.parse_args()
    require_postgresql()
    global SPLIT
    if args.split:
        SPLIT = Waits()
        SPLIT.install()
    with throwaway_database(args.database):
        rng = random.Random(2026)
        version = Questionnaire.objects.get(is_default=True).current_version()
        assert version is not None
        password = make_password(None)
        managers = User.objects.bulk_create(
            User(username=f"bench-manager-{i}", role=Role.ACCOUNT_MANAGER, password=password)
            for i in range(MANAGERS)
        )
        user = managers[0]
        grow(args.size, version, managers, rng)
        _token, raw_token = api_token_issue(user=user, name="bench")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
        print(
            f"{args.size:,} submitted assessments of the default questionnaire "
            f"({len(questions_by_id(version))} questions); {args.runs} runs of each"
            f"{', every call with an Idempotency-Key' if args.keyed else ''}\n"
            f"{'':44}{'p50 ms':>9}{'p95 ms':>9}{'statements':>12}"
        )
        questions = list(questions_by_id(version).values())
        p50, p95 = percentiles(the_floor(api, args.runs))
        print(f"  {'API floor: GET /api/v1/me/ with the token':42}{p50:9.2f}{p95:9.2f}{1:12}")
        calls = through_the_api(api, user, questions, args.runs, rng, args.keyed)
        publisher.flush(5)  # its log lines, before the figures rather than inside them
        for name, (samples, statements) in calls.items():
            p50, p95 = percentiles(samples)
            print(f"  API: {name:38}{p50:9.2f}{p95:9.2f}{statements:12}")
        services, statements = through_the_services(user, args.runs, rng)
        publisher.flush(5)
        p50, p95 = percentiles(services)
        print(
            f"  {'the services alone, the same three steps':42}{p50:9.2f}{p95:9.2f}{statements:12}"
        )
        api_p50 = statistics.median(calls["all three"][0])
        beside = calls[RAW_BESIDE][0]
        print(
            f"  API ÷ services: {api_p50 / statistics.median(services):.1f}×; "
            f"API ÷ raw INSERT: {api_p50 / statistics.median(beside):.1f}× "
            f"(run by run: {paired(calls['all three'][0], beside):.1f}×) "
            f"(target: the three calls ≤ 15 ms p50 and ≤ 12 statements; now "
            f"{api_p50:.1f} ms, {calls['all three'][1]})"
        )
        imports, inserts, statements = through_the_import(
            api, user, questions, args.runs, rng, args.keyed
        )
        publisher.flush(5)
        p50, p95 = percentiles(imports)
        name = "API: one import (create, answer, submit)"
        print(f"  {name:42}{p50:9.2f}{p95:9.2f}{statements:12}")
        raw_p50, raw_p95 = percentiles(inserts)
        print(f"  {'API: ' + RAW_BESIDE:42}{raw_p50:9.2f}{raw_p95:9.2f}{1:12}")
        print(
            f"  import ÷ raw INSERT: {p50 / raw_p50:.1f}× "
            f"(run by run: {paired(imports, inserts):.1f}×) "
            f"(target: the single call ≤ 10 ms p50; now {p50:.1f} ms, {statements} statements)"
        )
        if SPLIT is not None:
            SPLIT.print()
        if args.floor:
            the_stacks_share(api, user, questions, args.runs, rng)


if __name__ == "__main__":
    main()
