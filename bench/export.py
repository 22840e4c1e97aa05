"""Export every submitted assessment of a version: 100 and 10,000 assessments × 48 answers.

Prints, for each size, the seconds, rows, megabytes, queries and peak Python memory of
``export_rows`` fully consumed and of ``export_csv`` (the bytes the download streams),
beside the plainest way to produce the same table: one raw SQL query that pivots the
answers with ``array_agg``, fetched whole, then written with ``csv.writer``. The queries
must not grow with the number of assessments and the peak memory must stay flat.

The portfolio lives in a throwaway database that the script creates next to the one in
``DATABASE_URL`` — ``maturity_bench_export`` unless told otherwise — with Django's own
test-database machinery (``create_test_db``: create, migrate, which also loads the
default 48-question questionnaire), and drops at the end (``--keep`` keeps it, and a kept
portfolio is reused by the next run). It is generated in bulk: users, clients and
engagements with ``bulk_create``, assessments (submitted, scored by the real engine) with
``bulk_create``, their answers with PostgreSQL ``COPY``.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/maturity \\
        .venv/bin/python bench/export.py [--assessments 10000] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
import tracemalloc
from datetime import date, timedelta

from _django import require_postgresql, throwaway_database
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from assessments.export import export_csv, export_rows
from assessments.models import (
    Assessment,
    AssessmentStatus,
    Question,
    QuestionnaireVersion,
)
from assessments.scoring import NOT_APPLICABLE, score
from assessments.selectors import default_questionnaire, structure_for_version
from assessments.services import version_export, version_import, version_publish
from clients.models import Client, Country, Engagement, ProcessType, Segment, Size

SMALL = 100
TODAY = date(2026, 11, 23)


class Sink:
    """A file that only counts what is written to it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text.encode())
        return len(text)


def random_answer(question: Question, rng: random.Random) -> tuple[object, bool]:
    """(value, not_applicable): every question answered, a few "not applicable"."""
    if question.allow_na and rng.random() < 0.05:
        return None, True
    if question.type == "scale":
        return rng.randint(1, 5), False
    if question.type == "choice":
        return rng.choice(question.options)["code"], False
    if question.type == "yes_no":
        return rng.random() < 0.5, False
    if question.type == "number":
        low, high = question.min_value or 0, question.max_value or 100
        return round(rng.uniform(low, high), 1), False
    return rng.choice(["Sem observações.", "Contrato revisado em março; ação pendente."]), False


def populate(version: QuestionnaireVersion, count: int, engagements: list[Engagement],
             assessors: list[User], rng: random.Random) -> None:  # fmt: skip
    """``count`` submitted assessments of ``version``, every question answered, scored by
    the real engine (result columns filled; the JSON snapshot is left out: the export
    never reads it)."""
    questions = list(Question.objects.filter(version=version).order_by("id"))
    structure = structure_for_version(version)
    answer_sets = []
    assessments = []
    now = timezone.now()
    for index in range(count):
        answers = {q.pk: random_answer(q, rng) for q in questions}
        by_code = {
            q.code: NOT_APPLICABLE if answers[q.pk][1] else answers[q.pk][0] for q in questions
        }
        result = score(structure, by_code, (), today=TODAY)
        submitted_at = now - timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 1440))
        answer_sets.append(answers)
        assessments.append(
            Assessment(
                engagement=engagements[index % len(engagements)],
                version=version,
                assessor=assessors[index % len(assessors)],
                status=AssessmentStatus.APPROVED if index % 3 == 0 else AssessmentStatus.SUBMITTED,
                submitted_at=submitted_at,
                maturity_score=result.maturity_score,
                maturity_level=result.maturity_level,
                defensiveness_index=result.defensiveness_index,
                questionnaire_defensiveness=result.questionnaire_defensiveness,
                quadrant=result.quadrant.value if result.quadrant else "",
                completeness=result.completeness,
            )
        )
    Assessment.objects.bulk_create(assessments, batch_size=2_000)
    with connection.cursor() as cursor, cursor.cursor.copy(
        "COPY assessments_answer (assessment_id, question_id, value, not_applicable, "
        "na_reason, note, revision, updated_at) FROM STDIN"
    ) as copy:  # fmt: skip
        for assessment, answers in zip(assessments, answer_sets, strict=True):
            for question_id, (value, not_applicable) in answers.items():
                copy.write_row((
                    assessment.pk, question_id, None if not_applicable else json.dumps(value),
                    not_applicable, "Não se aplica a este processo." if not_applicable else "",
                    "", 1, now,
                ))  # fmt: skip


def build(count: int, rng: random.Random) -> tuple[QuestionnaireVersion, QuestionnaireVersion]:
    """The default version with ``count`` assessments and a copy of it with 100."""
    questionnaire = default_questionnaire()
    assert questionnaire is not None, "migrate loads the default questionnaire"
    large = questionnaire.current_version()
    assert large is not None
    document = version_export(large)
    document["questionnaire"]["code"] = "bench-small"
    small = version_publish(version=version_import(document=document, by=None), by=None)

    password = make_password(None)
    assessors = User.objects.bulk_create(
        User(username=f"bench-manager-{i}", role=Role.ACCOUNT_MANAGER, password=password)
        for i in range(50)
    )
    clients = Client.objects.bulk_create(
        (
            Client(
                name=f"Cliente de Bancada {i:05d} S.A.",
                segment=rng.choice(Segment.values),
                size=rng.choice(Size.values),
                country=rng.choice(Country.values),
                owner=assessors[i % len(assessors)],
            )
            for i in range(max(count // 4, SMALL))
        ),
        batch_size=2_000,
    )
    engagements = Engagement.objects.bulk_create(
        (
            Engagement(client=client, process_type=rng.choice(ProcessType.values))
            for client in clients
            for _ in range(2)
        ),
        batch_size=2_000,
    )
    populate(large, count, engagements, assessors, rng)
    populate(small, SMALL, engagements, assessors, rng)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return small, large


RAW_SQL = """
WITH q AS (
    SELECT q.id, row_number() OVER (ORDER BY d.position, q.dimension_id, q.position, q.id) AS n
    FROM assessments_question q JOIN assessments_dimension d ON d.id = q.dimension_id
    WHERE q.version_id = %(version)s
), cells AS (
    SELECT a.id AS assessment_id,
           array_agg(
               CASE
                   WHEN an.id IS NULL THEN ''
                   WHEN an.not_applicable THEN 'N/A'
                   WHEN jsonb_typeof(an.value) = 'boolean'
                       THEN CASE WHEN (an.value)::boolean THEN 'yes' ELSE 'no' END
                   ELSE coalesce(an.value #>> '{}', '')
               END
               ORDER BY q.n
           ) AS answers
    FROM assessments_assessment a
    CROSS JOIN q
    LEFT JOIN assessments_answer an ON an.assessment_id = a.id AND an.question_id = q.id
    WHERE a.version_id = %(version)s AND a.status IN ('submitted', 'approved')
    GROUP BY a.id
)
SELECT a.id, c.name, e.process_type, u.username, a.created_at, a.submitted_at, a.status,
       a.maturity_score, a.maturity_level, a.defensiveness_index, a.quadrant, a.completeness,
       cells.answers
FROM cells
JOIN assessments_assessment a ON a.id = cells.assessment_id
JOIN clients_engagement e ON e.id = a.engagement_id
JOIN clients_client c ON c.id = e.client_id
JOIN accounts_user u ON u.id = a.assessor_id
ORDER BY a.id
"""


def run_export_rows(version: QuestionnaireVersion) -> tuple[int, int]:
    rows = 0
    for _ in export_rows(version):
        rows += 1
    return rows - 1, 0


def run_export_csv(version: QuestionnaireVersion) -> tuple[int, int]:
    size = rows = 0
    for chunk in export_csv(version):
        size += len(chunk)
        rows += chunk.count(b"\r\n")
    return rows - 1, size


def run_raw(version: QuestionnaireVersion, *, write: bool) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, {"version": version.pk})
        fetched = cursor.fetchall()
    if not write:
        return len(fetched), 0
    sink = Sink()
    writer = csv.writer(sink, lineterminator="\r\n")
    sink.write("\ufeff")
    for row in fetched:
        writer.writerow([*row[:12], *row[12]])
    return len(fetched), sink.size


def measure(work, version: QuestionnaireVersion) -> tuple[float, int, int, int, float]:
    """(seconds, rows, bytes, queries, peak MB) — the peak in a second, traced run."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        rows, size = work(version)
        elapsed = time.perf_counter() - started
    tracemalloc.start()
    work(version)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return elapsed, rows, size, len(queries.captured_queries), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=10_000)
    parser.add_argument("--database", default="maturity_bench_export")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    args = parser.parse_args()
    require_postgresql("the benchmark uses COPY")
    with throwaway_database(args.database, keep=args.keep):
        kept = QuestionnaireVersion.objects.filter(questionnaire__code="bench-small").first()
        questionnaire = default_questionnaire()
        if kept is None:
            started = time.perf_counter()
            small, large = build(args.assessments, random.Random(2026))
            print(f"generated in {time.perf_counter() - started:.1f} s")
        elif questionnaire and (current := questionnaire.current_version()):
            small, large = kept, current
        else:
            sys.exit("The kept database has no default questionnaire: run without --keep.")
        questions = Question.objects.filter(version=large).count()
        exported = Assessment.objects.filter(
            version=large, status__in=[AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED]
        ).count()
        print(f"{exported:,} and {SMALL} submitted assessments × {questions} questions")
        print(f"{'':30}{'seconds':>9}{'rows':>9}{'MB':>8}{'queries':>9}{'peak MB':>9}")
        results = {}
        for version, count in ((small, SMALL), (large, exported)):
            print(f"{count:,} assessments")
            for label, work in (
                ("export_rows", run_export_rows),
                ("export_csv (the download)", run_export_csv),
                ("raw SQL, fetch only", lambda v: run_raw(v, write=False)),
                ("raw SQL + csv.writer", lambda v: run_raw(v, write=True)),
            ):
                elapsed, rows, size, queries, peak = measure(work, version)
                results[label, version.pk] = (elapsed, queries)
                megabytes = f"{size / 1e6:8.2f}" if size else f"{'':8}"
                print(f"  {label:28}{elapsed:9.2f}{rows:9,}{megabytes}{queries:9}{peak:9.1f}")
        for version, count in ((small, SMALL), (large, exported)):
            csv_time = results["export_csv (the download)", version.pk][0]
            raw_time = results["raw SQL + csv.writer", version.pk][0]
            print(f"export_csv / raw SQL + csv.writer, {count:,}: {csv_time / raw_time:.1f}×")
        same = (
            results["export_csv (the download)", small.pk][1]
            == results["export_csv (the download)", large.pk][1]
        )
        print(
            f"same queries for {SMALL} and {exported:,}: {'yes' if same else 'NO'}  "
            f"(target: ≤ 3 s for {exported:,} × {questions}, same query count)"
        )


if __name__ == "__main__":
    main()
