"""Submit a 60-question assessment: the service beside one raw SQL statement.

``assessment_submit`` locks the assessment, checks the required answers, scores them with
the client's past experiences as evidence, stores the result snapshot, the dimension
results and the transition, asks for the education plan (the outbox row), refreshes the
engagement's dashboard standing and records the ``assessment.submitted`` webhook event
(with a delivery for each endpoint that wants it). The baseline is the least any submit
must do: ONE statement (a CTE) that updates the assessment with the same result, replaces
its dimension results with a multi-row insert, records the transition, upserts the plan
request and the standing, and inserts the event and its deliveries — values computed
beforehand, nothing read, checked or scored.
Submits of the two kinds alternate, each on a fresh draft, so both see the same machine;
the average of ``--submits`` each is printed with the queries per submit. Target: the
service within 3× of the raw statement. With ``--profile``, ``--submits`` more service
submits then run with every query timed and under cProfile, and where a submit's time
goes is printed: each statement's share, the Python between them,
and the functions that cost most.

The questionnaire (10 dimensions — 6 maturity, 4 defensiveness — of 6 anchored-scale
questions each) is imported and published through the services; clients, engagements,
past experiences, draft assessments and their 60 answers are inserted in bulk. All of it
lives in a throwaway database, ``maturity_bench_submit`` unless told otherwise, created
next to the one in ``DATABASE_URL`` with Django's test-database machinery
(``create_test_db``) and dropped at the end.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/maturity \\
        .venv/bin/python bench/submit.py [--submits 200] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import re
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from _django import require_postgresql, throwaway_database
from django.contrib.auth.hashers import make_password
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from assessments.events import assessment_data
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AssessmentTransition,
    DimensionResult,
    QuestionnaireVersion,
)
from assessments.selectors import questions_by_id
from assessments.services import assessment_submit, version_import, version_publish
from clients.models import (
    Client,
    Country,
    Engagement,
    Outcome,
    PastExperience,
    ProcessType,
    Segment,
    Size,
)
from dashboards.models import Standing

DIMENSIONS = 10
MATURITY_DIMENSIONS = 6
QUESTIONS_PER_DIMENSION = 6
WARM_UP = 5


def texts(en: str) -> dict[str, str]:
    return {"en": en, "pt-br": f"{en} (pt)", "es": f"{en} (es)"}


def document() -> dict[str, Any]:
    """60 anchored-scale questions over 10 dimensions, in the import format."""
    levels = [
        {"value": v, "label": texts(f"Level {v}"), "description": texts(f"Looks like {v}")}
        for v in range(1, 6)
    ]
    return {
        "format": "maturity-questionnaire",
        "format_version": 1,
        "questionnaire": {"code": "bench-submit-60", "name": texts("Benchmark, 60 questions")},
        "dimensions": [
            {
                "code": f"dim-{d}",
                "kind": "maturity" if d < MATURITY_DIMENSIONS else "defensiveness",
                "weight": 1 + d % 3,
                "name": texts(f"Dimension {d}"),
                "questions": [
                    {
                        "code": f"q-{d}-{i}",
                        "type": "scale",
                        "weight": 1 + i % 2,
                        "reverse": i == QUESTIONS_PER_DIMENSION - 1,
                        "allow_na": i == 0,
                        "text": texts(f"Question {d}.{i}?"),
                        "levels": levels,
                    }
                    for i in range(QUESTIONS_PER_DIMENSION)
                ],
            }
            for d in range(DIMENSIONS)
        ],
    }


def drafts(version: QuestionnaireVersion, count: int, rng: random.Random) -> list[Assessment]:
    """``count`` draft assessments, each on its own engagement, with all 60 answered."""
    password = make_password(None)
    managers = User.objects.bulk_create(
        User(username=f"bench-assessor-{i}", role=Role.ACCOUNT_MANAGER, password=password)
        for i in range(20)
    )
    clients = Client.objects.bulk_create(
        Client(
            name=f"Cliente de Bancada {i:05d} Ltda.",
            segment=rng.choice(Segment.values),
            size=rng.choice(Size.values),
            country=rng.choice(Country.values),
            owner=managers[i % len(managers)],
        )
        for i in range(count)
    )
    PastExperience.objects.bulk_create(
        PastExperience(
            client=client,
            supplier=f"Fornecedor {i}",
            process_type=rng.choice(ProcessType.values),
            outcome=rng.choice(Outcome.values),
            severity=rng.randint(1, 5),
            ended_on=date(2026, 1, 1) - timedelta(days=rng.randint(0, 3000)),
        )
        for client in clients
        for i in range(rng.randint(0, 3))
    )
    engagements = Engagement.objects.bulk_create(
        Engagement(client=client, process_type=rng.choice(ProcessType.values)) for client in clients
    )
    assessments = Assessment.objects.bulk_create(
        Assessment(engagement=engagement, version=version, assessor=engagement.client.owner)
        for engagement in engagements
    )
    AssessmentTransition.objects.bulk_create(
        AssessmentTransition(assessment=a, to_status=AssessmentStatus.DRAFT, by=a.assessor)
        for a in assessments
    )
    questions = list(questions_by_id(version).values())
    now = timezone.now()
    Answer.objects.bulk_create(
        (
            Answer(
                assessment=assessment,
                question=question,
                value=None if (na := question.allow_na and rng.random() < 0.1)
                else rng.randint(1, 5),
                not_applicable=na,
                na_reason="Não se aplica." if na else "",
                updated_at=now,
                updated_by=assessment.assessor,
            )
            for assessment in assessments
            for question in questions
        ),
        batch_size=5_000,
    )  # fmt: skip
    return assessments


STANDING_COLUMNS = [
    str(f.column)
    for f in Standing._meta.concrete_fields
    if f.column not in ("assessment_id", "submitted_at")
]

RAW_SUBMIT = f"""
WITH submitted AS (
    UPDATE assessments_assessment
    SET status = 'submitted', maturity_score = %(maturity_score)s,
        maturity_level = %(maturity_level)s, defensiveness_index = %(defensiveness_index)s,
        questionnaire_defensiveness = %(questionnaire_defensiveness)s,
        quadrant = %(quadrant)s, completeness = %(completeness)s, result = %(result)s::jsonb,
        submitted_at = now(), updated_at = now()
    WHERE id = %(id)s AND status IN ('draft', 'returned')
    RETURNING id
), cleared AS (
    DELETE FROM assessments_dimensionresult WHERE assessment_id IN (SELECT id FROM submitted)
), scored AS (
    INSERT INTO assessments_dimensionresult (assessment_id, dimension_id, code, kind, score)
    SELECT submitted.id, d.dimension_id, d.code, d.kind, d.score
    FROM submitted,
         unnest(%(dimension_ids)s::bigint[], %(codes)s::text[], %(kinds)s::text[],
                %(scores)s::float8[]) AS d(dimension_id, code, kind, score)
), transition AS (
    INSERT INTO assessments_assessmenttransition
        (assessment_id, from_status, to_status, by_id, at, comment)
    SELECT id, 'draft', 'submitted', %(by)s, now(), '' FROM submitted
), planned AS (
    INSERT INTO education_educationplan
        (assessment_id, engagement_id, status, requested_at, sweep_at, builds, build_failures,
         last_error)
    SELECT id, %(s_engagement_id)s, 'pending', now(), now() + interval '120 seconds', 0, 0, ''
    FROM submitted
    ON CONFLICT (assessment_id) DO UPDATE SET status = 'pending', requested_at = now(),
        sweep_at = EXCLUDED.sweep_at
), evented AS (
    INSERT INTO webhooks_event (id, type, version, payload, created_at)
    SELECT %(event_id)s::uuid, 'assessment.submitted', 1, %(event)s::jsonb, now()
    FROM submitted
    RETURNING id, type, created_at
), delivered AS (
    INSERT INTO webhooks_delivery (event_id, endpoint_id, state, attempts, next_attempt_at,
                                   created_at, last_error)
    SELECT evented.id, endpoint.id, 'pending', 0, evented.created_at, evented.created_at, ''
    FROM evented JOIN webhooks_endpoint endpoint
      ON endpoint.is_active AND endpoint.event_types @> jsonb_build_array(evented.type)
)
INSERT INTO dashboards_standing (assessment_id, submitted_at, {", ".join(STANDING_COLUMNS)})
SELECT id, now(), {", ".join(f"%(s_{c})s" for c in STANDING_COLUMNS)} FROM submitted
ON CONFLICT (engagement_id) DO UPDATE SET assessment_id = EXCLUDED.assessment_id,
    submitted_at = EXCLUDED.submitted_at,
    {", ".join(f"{c} = EXCLUDED.{c}" for c in STANDING_COLUMNS if c != "engagement_id")}
"""


def raw_parameters(done: Assessment, target: Assessment) -> dict[str, Any]:
    """What the service stored for ``done``, to be written on ``target`` by the raw SQL
    (a result of the same size and shape)."""
    rows = list(
        DimensionResult.objects.filter(assessment=done).values_list(
            "dimension_id", "code", "kind", "score"
        )
    )
    standing = Standing.objects.get(engagement_id=done.engagement_id)
    values = {f"s_{c}": getattr(standing, c) for c in STANDING_COLUMNS}
    values["s_engagement_id"] = target.engagement_id
    values["s_client_id"] = target.engagement.client_id
    return {
        **values,
        # The webhook event the service records (the same payload's size and shape).
        "event_id": uuid.uuid4(),
        "event": json.dumps(
            {
                "type": "assessment.submitted",
                "version": 1,
                "timestamp": "2026-12-06T00:00:00Z",
                "data": assessment_data(done),
            },
            cls=DjangoJSONEncoder,
        ),
        "id": target.pk,
        "by": target.assessor_id,
        "maturity_score": done.maturity_score,
        "maturity_level": done.maturity_level,
        "defensiveness_index": done.defensiveness_index,
        "questionnaire_defensiveness": done.questionnaire_defensiveness,
        "quadrant": done.quadrant,
        "completeness": done.completeness,
        "result": done.result,  # serialised inside the timed part, as the service does
        "dimension_ids": [row[0] for row in rows],
        "codes": [row[1] for row in rows],
        "kinds": [row[2] for row in rows],
        "scores": [row[3] for row in rows],
    }


def statement(sql: str) -> str:
    """A query's kind: its verb and table (and FOR UPDATE)."""
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
    words = [sql.split()[0].upper()]
    if table:
        words.append(table.group(1))
    if " FOR UPDATE" in sql:
        words.append("FOR UPDATE")
    return " ".join(words)


def profile(assessments: list[Assessment]) -> None:
    """Where a submit's time goes: half the submits with every query timed (the SQL and
    the Python between), the other half under cProfile (the costliest functions)."""
    timed, profiled = assessments[::2], assessments[1::2]
    spent: dict[str, float] = defaultdict(float)
    total = 0.0

    def timing(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # perf_counter, not CaptureQueriesContext: its times are rounded to the millisecond.
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[statement(sql)] += time.perf_counter() - started

    commit = connection.commit

    def timed_commit() -> None:
        started = time.perf_counter()
        try:
            commit()
        finally:
            spent["COMMIT"] += time.perf_counter() - started

    connection.commit = timed_commit  # type: ignore[method-assign]
    try:
        for assessment in timed:
            with connection.execute_wrapper(timing):
                started = time.perf_counter()
                assessment_submit(assessment=assessment, by=assessment.assessor)
                total += time.perf_counter() - started
    finally:
        del connection.commit
    count = len(timed)
    print(f"\nwhere a submit's time goes, ms per submit ({count} more submits, queries timed):")
    for kind, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{1000 * seconds / count:8.2f}  SQL  {kind}")
    print(
        f"{1000 * sum(spent.values()) / count:8.2f}  SQL in all (round trips included; psycopg "
        "sends BEGIN with the first statement)"
    )
    print(f"{1000 * (total - sum(spent.values())) / count:8.2f}  Python between the queries")
    print(f"{1000 * total / count:8.2f}  the submit")
    profiler = cProfile.Profile()
    for assessment in profiled:
        profiler.enable()
        assessment_submit(assessment=assessment, by=assessment.assessor)
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(f"\nthe costliest functions over {len(profiled)} submits under cProfile (own time):")
    print(out.getvalue().split("\n\n", 1)[-1].strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=200)
    parser.add_argument("--database", default="maturity_bench_submit")
    parser.add_argument("--profile", action="store_true", help="cProfile the service's submits")
    args = parser.parse_args()
    require_postgresql()
    with throwaway_database(args.database):
        version = version_publish(version=version_import(document=document(), by=None), by=None)
        rng = random.Random(2026)
        profiled = args.submits if args.profile else 0
        pool = drafts(version, WARM_UP + 1 + 2 * args.submits + profiled, rng)
        warm_up, counted = pool[:WARM_UP], pool[WARM_UP]
        paired = pool[WARM_UP + 1 : len(pool) - profiled]
        by_service, by_raw = paired[::2], paired[1::2]
        for assessment in warm_up:  # caches of the version's questions and structure
            assessment_submit(assessment=assessment, by=assessment.assessor)
        with CaptureQueriesContext(connection) as captured:
            assessment_submit(assessment=counted, by=counted.assessor)
        service_queries = [q["sql"] for q in captured.captured_queries]
        with connection.cursor() as cursor:  # the raw statement's plan, warmed up once
            cursor.execute(RAW_SUBMIT, raw_parameters(warm_up[0], warm_up[0]))

        service_time = raw_time = 0.0
        raw_queries = 0
        for mine, theirs in zip(by_service, by_raw, strict=True):
            started = time.perf_counter()
            done = assessment_submit(assessment=mine, by=mine.assessor)
            service_time += time.perf_counter() - started
            parameters = raw_parameters(done, theirs)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    parameters["result"] = json.dumps(parameters["result"])
                    cursor.execute(RAW_SUBMIT, parameters)
                raw_time += time.perf_counter() - started
            raw_queries = len(captured.captured_queries)

        submits = len(by_service)
        questions = sum(1 for _ in questions_by_id(version))
        print(
            f"{submits} submits of each kind, {questions} questions in {DIMENSIONS} dimensions, "
            "0–3 past experiences per client"
        )
        print(f"{'':34}{'ms/submit':>10}{'submits/s':>11}{'queries':>9}")
        for label, elapsed, queries in (
            ("assessment_submit (service)", service_time, len(service_queries)),
            ("one raw SQL statement (CTE)", raw_time, raw_queries),
        ):
            print(
                f"{label:34}{1000 * elapsed / submits:10.2f}{submits / elapsed:11,.0f}{queries:9}"
            )
        print(f"service / raw SQL: {service_time / raw_time:.1f}×  (target: within 3×)")
        print("the service's queries, in order: " + "; ".join(map(statement, service_queries)))
        if profiled:
            profile(pool[len(pool) - profiled :])
        assert not Assessment.objects.filter(status=AssessmentStatus.DRAFT).exists()
        assert DimensionResult.objects.count() == len(pool) * DIMENSIONS


if __name__ == "__main__":
    main()
