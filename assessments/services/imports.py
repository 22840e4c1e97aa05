"""A finished assessment in one call, for integrations that import assessments made
elsewhere (another tool, a spreadsheet, a workshop on paper): created, answered, checked,
scored and submitted in one transaction — all of it or none of it.

It is the same assessment the three calls (start, answers, submit) make, with the same
checks in the same words: answers refused by ``answers.checked_rows``, unanswered required
questions by ``score_into``, both before anything is written. Its history reads as theirs
does (started as a draft, then submitted, by the importing user); the same receivers run
(the education plan, the dashboards' standing) and the same ``assessment.submitted``
event is recorded. On PostgreSQL the assessment, its history, its answers and its
dimension scores are written in one statement; elsewhere through the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
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
from assessments.services.answers import AnswerInput, answer_columns, checked_rows
from assessments.services.assessments import (
    RESULT_FIELDS,
    DimensionRow,
    as_written,
    dimension_results_of,
    dimension_rows_cte,
    engagement_with_experiences,
    past_experiences,
    score_into,
    version_to_start,
)
from assessments.signals import (
    RIDER_COLUMNS,
    Rider,
    assessment_submitted,
    riders_params,
    riders_ridden,
    riders_sql,
    submit_riders,
)
from clients.models import Engagement
from clients.services import ENGAGEMENT_CLIENT, ENGAGEMENT_HELD
from core.sql import as_columns, one_line, prepared_cursor
from webhooks.services import (
    RECORD_COUNT,
    RECORD_CTES,
    event_record,
    events_recorded,
    record_params,
)


def assessment_import(
    *,
    engagement: Engagement,
    by: User,
    answers: Sequence[AnswerInput],
    version: QuestionnaireVersion | None = None,
    in_sight_of: User | None = None,
) -> Assessment:
    """A submitted assessment of ``engagement`` by ``by`` on ``version`` (default: the
    current version of the default questionnaire) with ``answers``. Raises
    AnswersRefused (every refused answer) or MissingAnswers (every unanswered required
    question) and writes nothing then. Never resumes an open draft: an import is a new
    assessment, beside whatever the assessor has open.

    ``in_sight_of``: the user whose sight the engagement must be in, when ``engagement``
    (then perhaps only its id) has not been looked up through the clients' scoping rule —
    the API's import: in its transaction's first statement it is read and held (as the
    standing's refresh holds it), with its client's past experiences, the default version
    when none is named and the new assessment's id; its insert then carries its event and
    every rider (the standing's too: its snapshot follows the lock). One out of sight
    raises ``Engagement.DoesNotExist``, as does one deleted before the import is written
    (the reconciliation's import, which reads nothing first, holds it in its insert)."""
    with transaction.atomic():
        new_id = None  # reserved by the API's read, which holds the engagement
        if in_sight_of is not None:
            engagement, experiences, default, new_id = engagement_with_experiences(
                engagement.pk,
                in_sight_of=in_sight_of,
                with_default_version=version is None,
                reserving_id=True,
                holding=True,
            )
            version = version or default  # (None still: version_to_start says why)
        else:
            experiences = past_experiences(engagement.client_id)
        version = version_to_start(version)
        questions = questions_by_id(version)
        now = timezone.now()
        assessment = Assessment(
            engagement=engagement,
            version=version,
            assessor=by,
            status=AssessmentStatus.SUBMITTED,
            created_at=now,
            updated_at=now,
            submitted_at=now,
        )
        rows = checked_rows(
            assessment, questions=questions, answers=answers, existing={}, by=by, now=now
        )
        order = {pk: index for index, pk in enumerate(questions)}  # the form's order
        rows.sort(key=lambda row: order[row.question_id])
        dimension_rows = score_into(
            assessment,
            questions=questions,
            answers={row.question_id: (row.value, row.not_applicable) for row in rows},
            experiences=experiences,
        )
        results = dimension_results_of(assessment, questions, dimension_rows)
        held = connection.vendor == "postgresql"
        ridden: dict[str, Any] = {}
        event = None
        if held:
            if new_id is not None:
                assessment.pk = new_id
                event = ("assessment.submitted", assessment_data(assessment))
            assessment.pk, ridden = _insert_in_one_statement(
                assessment, rows, dimension_rows, now=now, event=event, held=new_id is not None
            )
            history = [
                AssessmentTransition(
                    assessment=assessment, from_status=before, to_status=after, by=by, at=now
                )
                for before, after in _HISTORY
            ]
        else:
            history = _insert_through_the_orm(assessment, rows, results)
        assessment_submitted.send(
            sender=Assessment, assessment=assessment, by=by, engagement_held=held, ridden=ridden
        )
        if event is None:
            event_record("assessment.submitted", assessment_data(assessment))
    for row in rows:
        row.assessment = assessment  # its id, now the assessment has one
    return as_written(assessment, answers=rows, transitions=history, dimension_results=results)


# As if started and submitted at once: the history the three calls leave.
_HISTORY = (("", AssessmentStatus.DRAFT), (AssessmentStatus.DRAFT, AssessmentStatus.SUBMITTED))


def _insert_through_the_orm(
    assessment: Assessment, rows: list[Answer], results: list[DimensionResult]
) -> list[AssessmentTransition]:
    """Returns the history as written (its time is the database's field default).
    Raises ``Engagement.DoesNotExist`` for an engagement deleted since it was read, as
    the one statement does (its foreign key would refuse the row only at commit here)."""
    if not Engagement.objects.filter(pk=assessment.engagement_id).exists():
        raise Engagement.DoesNotExist
    assessment.save(force_insert=True)
    history = AssessmentTransition.objects.bulk_create(
        AssessmentTransition(
            assessment=assessment,
            from_status=before,
            to_status=after,
            by=assessment.assessor,
            at=assessment.created_at,
        )
        for before, after in _HISTORY
    )
    Answer.objects.bulk_create(rows)  # each row holds the assessment, saved now
    DimensionResult.objects.bulk_create(results)
    return history


# One prepared statement of constant text: the rows arrive as arrays, one per column. It
# first locks the engagement and shares its client, as the standing's refresh would after
# it (dashboards.standings: the import's signal says it holds them), and carries the
# registered riders (assessments.signals.Rider) as a first submit's statement does. Its
# webhook event names the new id: when the id was reserved beforehand (the API's read
# draws it) the event rides in it too; otherwise the id is drawn here, and the event is
# recorded by a statement of its own.
_INSERT = """
    WITH held AS (
        SELECT e.id FROM clients_engagement e {engagement_client}
         WHERE e.id = %s
           {held}
    ), made AS (
        INSERT INTO assessments_assessment
               (id, engagement_id, version_id, assessor_id, status, created_at, updated_at,
                submitted_at, reviewed_at, reviewed_by_id, {result_columns})
        SELECT COALESCE(%s::bigint, nextval(pg_get_serial_sequence('{table}', 'id'))),
               held.id, %s, %s, %s, %s, %s, %s, NULL, NULL, %s, %s, %s, %s, %s, %s, %s::jsonb
          FROM held
     RETURNING {returning}
    ), history AS (
        INSERT INTO assessments_assessmenttransition
               (assessment_id, from_status, to_status, by_id, at, comment)
        SELECT made.id, h.from_status, h.to_status, %s::bigint, %s::timestamptz, ''
          FROM made, unnest(%s::varchar[], %s::varchar[]) WITH ORDINALITY
                       AS h (from_status, to_status, n)
         ORDER BY h.n
    ), answers AS (
        INSERT INTO assessments_answer
               (assessment_id, question_id, value, not_applicable, na_reason, note, revision,
                updated_at, updated_by_id)
        SELECT made.id, a.question_id, a.value::jsonb, a.not_applicable, a.na_reason, a.note,
               1, %s::timestamptz, %s::bigint
          FROM made,
               unnest(%s::bigint[], %s::text[], %s::boolean[], %s::varchar[], %s::text[])
                 AS a (question_id, value, not_applicable, na_reason, note)
    ), {dimensions}{events}{riders}
    SELECT id{deliveries}{ridden} FROM made
"""


@cache
def _insert_sql(riders: tuple[Rider, ...], with_event: bool) -> str:
    """_INSERT carrying ``riders`` (submit_riders()) and, ``with_event``, the webhook
    event's CTEs (webhooks.services.RECORD_CTES), built once for each."""
    ctes, values = riders_sql(riders, "made", "dimensions")
    return one_line(
        _INSERT.format(
            returning=", ".join(RIDER_COLUMNS),
            held=ENGAGEMENT_HELD,
            engagement_client=ENGAGEMENT_CLIENT,
            table=Assessment._meta.db_table,
            result_columns=", ".join(RESULT_FIELDS),
            dimensions=dimension_rows_cte("made"),
            events=f", {RECORD_CTES}" if with_event else "",
            deliveries=f", {RECORD_COUNT}" if with_event else "",
            riders=ctes,
            ridden=values,
        )
    )


def _insert_in_one_statement(
    assessment: Assessment,
    rows: list[Answer],
    dimension_rows: list[DimensionRow],
    *,
    now: datetime,
    event: tuple[str, dict[str, Any]] | None = None,
    held: bool = False,
) -> tuple[int, dict[str, Any]]:
    """_INSERT for ``assessment``, scored, with the riders' rows and ``event`` (``(type,
    data)``; ``assessment.pk`` is then the id reserved for it, which it names): returns
    its id and what the riders returned (assessment_submitted's ``ridden``). ``held``: an
    earlier statement of the transaction holds the engagement, so the riders that must
    follow the lock ride too; otherwise the insert takes the lock, and they do not."""
    riders = submit_riders(locked=held)
    params: list[object] = [
        assessment.engagement_id,
        assessment.pk,
        assessment.version_id,
        assessment.assessor_id,
        assessment.status,
        now,
        now,
        now,
        *(getattr(assessment, field) for field in RESULT_FIELDS[:-1]),
        json.dumps(assessment.result),
        assessment.assessor_id,
        now,
        [before for before, _ in _HISTORY],
        [after for _, after in _HISTORY],
        now,
        assessment.assessor_id,
        *answer_columns(rows),
        [row.note for row in rows],
        *as_columns(dimension_rows, 4),
        *(record_params([event], now) if event is not None else []),
        *riders_params(riders, assessment),
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_insert_sql(riders, event is not None), params)
        made = cursor.fetchone()
    if made is None:  # the engagement was deleted since it was read: nothing was written
        raise Engagement.DoesNotExist
    if event is not None:
        pk, deliveries, *values = made
        events_recorded(deliveries)
    else:
        pk, *values = made
    return int(pk), riders_ridden(riders, values)
