"""Answers: saved as they are given (autosave and the API), all or none per request,
each checked against its question and against the revision its sender last read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import DIRECTORS, user_has_role
from accounts.models import User
from assessments import question_types
from assessments.models import (
    EDITABLE_STATUSES,
    Answer,
    Assessment,
    Question,
)
from assessments.selectors import (
    published_question,
    questions_by_id,
)
from assessments.services.assessments import (
    MAX_TEXT,
    VISIBLE_ASSESSMENT,
    AssessmentNotEditable,
    lock_for_write,
    may_edit,
)
from clients.selectors import Audience, audience_of
from core.sql import Columns, Reused, is_refusal, one_line, prepared_cursor
from core.text import has_lone_surrogate


@dataclass(frozen=True)
class AnswerInput:
    """One answer as a page or the API sends it."""

    question: Any  # the question's id
    value: Any = None
    not_applicable: bool = False
    na_reason: str | None = None  # None: keep what is stored
    note: str | None = None  # None: keep what is stored
    revision: int | None = None  # the revision the sender last read; None for a new answer


@dataclass(frozen=True)
class AnswerProblem:
    index: int  # position in the request
    question: Any
    field: str
    message: str
    code: str  # "invalid" | "stale" | "unknown_question" | "duplicate"
    current: dict[str, Any] | None = None  # for a stale write: what is stored now


class AnswersRefused(Exception):
    """Some answers could not be saved; none of the request was."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        super().__init__([p.message for p in problems])
        self.problems = problems

    @property
    def only_stale(self) -> bool:
        return all(problem.code == "stale" for problem in self.problems)


# --- Answers ------------------------------------------------------------------------------

# One answer written in one autocommit statement, each condition of answers_save in its
# WHERE: the assessment is touched only if it is editable, on the question's version, the
# user's to edit (``{assessor}``), in sight (``{visible}``, the clients' scoping rule) and
# the answer still at the revision its sender read; the answer is written only if the
# assessment was. The status and the revision are tested on the rows being written, so
# PostgreSQL re-checks them after waiting for a concurrent submit or save. The same
# statement lists the questions already answered (progress), this one apart: it reads the
# rows as they were before this write.
_AUTOSAVE_SQL = """
WITH target AS (
    UPDATE assessments_assessment SET updated_at = %s
    WHERE id = %s AND version_id = %s AND status IN (%s, %s){assessor}
      AND id IN ({visible})
      AND {answer_check}
    RETURNING id
), written AS (
    {write}
)
SELECT (SELECT revision FROM written),
       ARRAY(SELECT question_id FROM assessments_answer
             WHERE assessment_id = %s AND question_id <> %s
               AND (not_applicable OR (value IS NOT NULL AND value <> '""'::jsonb)))
"""
_INSERT = """
    INSERT INTO assessments_answer (assessment_id, question_id, value, not_applicable,
                                    na_reason, note, revision, updated_at, updated_by_id)
    SELECT id, %s::bigint, %s::jsonb, %s::boolean, %s::varchar, %s::text, 1,
           %s::timestamptz, %s::bigint
    FROM target
    ON CONFLICT (assessment_id, question_id) DO NOTHING
    RETURNING revision"""
_UPDATE = """
    UPDATE assessments_answer
    SET value = %s::jsonb, not_applicable = %s, na_reason = %s, note = %s,
        revision = revision + 1, updated_at = %s, updated_by_id = %s
    WHERE assessment_id IN (SELECT id FROM target) AND question_id = %s AND revision = %s
    RETURNING revision"""
_NEW = "NOT EXISTS (SELECT 1 FROM assessments_answer WHERE assessment_id = %s AND question_id = %s)"
_AT = "EXISTS (SELECT 1 FROM assessments_answer WHERE assessment_id = %s AND question_id = %s AND revision = %s)"  # noqa: E501


@cache
def _autosave_sql(*, audience: Audience, may_edit_all: bool, update: bool) -> str:
    """The statement's text, on one line, for one kind of save (a new answer or a changed
    one) by one kind of user — built once per process, not on every save."""
    sql = _AUTOSAVE_SQL.format(
        assessor="" if may_edit_all else " AND assessor_id = %s",
        visible=VISIBLE_ASSESSMENT.text(audience),
        answer_check=_AT if update else _NEW,
        write=_UPDATE if update else _INSERT,
    )
    return one_line(sql)


@dataclass(frozen=True)
class Autosaved:
    """What the fill page redraws after one saved answer."""

    answer: Answer  # as stored now (not read back: what was written)
    answered: frozenset[int]  # the assessment's answered questions, this one included


def answer_autosave(
    *, assessment_id: int, question: Question, item: AnswerInput, by: User
) -> Autosaved | None:
    """Save one answer of the fill page in ONE prepared statement (see _AUTOSAVE_SQL), or
    return None without writing anything: not editable, not the user's, out of sight, a
    stale revision, an invalid value or an omitted note — answers_save then decides and
    says why, in its own words. ``question`` must be of a published version. PostgreSQL
    only (elsewhere always None: the long way)."""
    audience = audience_of(by)
    if connection.vendor != "postgresql" or audience is Audience.NO_ONE:
        return None
    if item.note is None or item.na_reason is None or answer_problem(question, item) is not None:
        return None
    may_edit_all = user_has_role(by, DIRECTORS)  # may_edit's rule: the assessor, or directors
    revision = item.revision or 0
    sql = _autosave_sql(audience=audience, may_edit_all=may_edit_all, update=bool(revision))
    now = timezone.now()
    row = _row(assessment_id, question, item, None, by=by, now=now)
    value = Answer._meta.get_field("value").get_db_prep_save(row.value, connection)
    fields = [value, row.not_applicable, row.na_reason, row.note]
    if revision:
        write_params = [*fields, now, by.pk, question.pk, revision]
        check_params = [assessment_id, question.pk, revision]
    else:
        write_params = [question.pk, *fields, now, by.pk]
        check_params = [assessment_id, question.pk]
    params = [
        now,
        assessment_id,
        question.version_id,
        *EDITABLE_STATUSES,
        *([] if may_edit_all else [by.pk]),
        *VISIBLE_ASSESSMENT.params(audience, user=by.pk, assessment=assessment_id),
        *check_params,
        *write_params,
        assessment_id,
        question.pk,
    ]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        saved, answered = cursor.fetchone()
    if saved is None:
        return None
    row.revision = saved
    if Answer.counts(row.value, row.not_applicable):
        answered.append(question.pk)
    return Autosaved(answer=row, answered=frozenset(answered))


def _check_value(question: Question, value: Any) -> str | None:
    """Why ``value`` cannot answer ``question``, or None (the question's type says)."""
    return question_types.get(question.type).invalid(question, value)


def _stored(answer: Answer) -> dict[str, Any]:
    return {
        "value": answer.value,
        "not_applicable": answer.not_applicable,
        "na_reason": answer.na_reason,
        "note": answer.note,
        "revision": answer.revision,
    }


def answers_save(
    *,
    assessment: Assessment,
    by: User,
    answers: Sequence[AnswerInput],
    in_sight_of: User | None = None,
) -> list[Answer]:
    """Save (insert or update) answers, all or none. A value of None without
    ``not_applicable`` clears the answer. Raises AnswersRefused listing every problem;
    AssessmentNotEditable once submitted. ``in_sight_of``: see lock_for_write.

    On PostgreSQL, answers that can all be checked before they are sent are written in
    one statement (_SAVE_SQL); the rest, and every refusal, take the long way under the
    assessment's lock, which says precisely why."""
    saved = _save_in_one_statement(assessment.pk, by=by, answers=answers)
    if saved is not None:
        return saved
    return _save_under_lock(assessment, by=by, answers=answers, in_sight_of=in_sight_of)


# A request's answers written in ONE autocommit statement, with autosave's conditions on
# the assessment (_AUTOSAVE_SQL: editable, on the questions' version, the user's to edit,
# in sight) and each answer's revision tested on the row being written: a changed answer
# only at the revision its sender read, a new one only where none is stored. PostgreSQL
# re-checks both after waiting for a concurrent save or submit, which a read before the
# write could not. Fewer rows written than sent means a stale answer: core_refuse_unless
# then undoes the whole statement (all or none) and answers_save takes the long way, which
# says which. The assessment's lock, the read of its answers and the transaction's BEGIN
# and COMMIT are four round trips this saves.
_SAVE_SQL = """
WITH target AS (
    UPDATE assessments_assessment SET updated_at = %s
    WHERE id = %s AND version_id = %s AND status IN (%s, %s){assessor}
      AND id IN ({visible})
    RETURNING id
), given AS (
    SELECT * FROM unnest(%s::bigint[], %s::text[], %s::boolean[], %s::varchar[], %s::text[],
                         %s::integer[])
                  AS g (question_id, value, not_applicable, na_reason, note, revision)
), changed AS (
    UPDATE assessments_answer a
       SET value = g.value::jsonb, not_applicable = g.not_applicable, na_reason = g.na_reason,
           note = COALESCE(g.note, a.note), revision = a.revision + 1, updated_at = %s,
           updated_by_id = %s
      FROM target, given g
     WHERE a.assessment_id = target.id AND a.question_id = g.question_id
       AND g.revision > 0 AND a.revision = g.revision
    RETURNING a.question_id, a.revision, a.note
), added AS (
    INSERT INTO assessments_answer (assessment_id, question_id, value, not_applicable,
                                    na_reason, note, revision, updated_at, updated_by_id)
    SELECT target.id, g.question_id, g.value::jsonb, g.not_applicable, g.na_reason,
           COALESCE(g.note, ''), 1, %s::timestamptz, %s::bigint
      FROM target, given g
     WHERE g.revision = 0
        ON CONFLICT (assessment_id, question_id) DO NOTHING
    RETURNING question_id, revision, note
), saved AS (
    SELECT * FROM changed UNION ALL SELECT * FROM added
)
SELECT core_refuse_unless(
           NOT EXISTS (SELECT FROM target) OR (SELECT count(*) FROM saved) = %s,
           'stale answers: none saved'),
       EXISTS (SELECT FROM target),
       ARRAY(SELECT question_id FROM saved),
       ARRAY(SELECT revision FROM saved),
       ARRAY(SELECT note FROM saved)
"""


_REVISIONS = range(2**31)  # what the revision column (an integer) can hold


@cache
def _save_sql(*, audience: Audience, may_edit_all: bool) -> str:
    """_SAVE_SQL's text for one kind of user, built once per process."""
    return one_line(
        _SAVE_SQL.format(
            assessor="" if may_edit_all else " AND assessor_id = %s",
            visible=VISIBLE_ASSESSMENT.text(audience),
        )
    )


def _save_in_one_statement(
    assessment_id: int, *, by: User, answers: Sequence[AnswerInput]
) -> list[Answer] | None:
    """Save ``answers`` in one statement (_SAVE_SQL) and return the rows as stored, or
    return None having written nothing — when not every answer can be checked here (a
    question this process has not loaded, of another version, asked twice; an invalid
    value; "not applicable" without its reason, which the stored one may give), or when
    the statement finds the assessment not editable, not the user's, out of sight, or an
    answer stale. PostgreSQL only."""
    audience = audience_of(by)
    if connection.vendor != "postgresql" or audience is Audience.NO_ONE or not answers:
        return None
    now = timezone.now()
    version_id: int | None = None
    rows: list[Answer] = []
    asked: set[int] = set()
    for item in answers:
        if item.revision is not None and item.revision not in _REVISIONS:
            return None  # (no answer has it: stale, which the long way says)
        known = published_question(item.question) if _is_id(item.question) else None
        if known is None or answer_problem(question := known[0], item) is not None:
            return None
        if version_id is None:
            version_id = question.version_id
        if question.version_id != version_id or question.pk in asked:
            return None
        asked.add(question.pk)
        rows.append(_row(assessment_id, question, item, None, by=by, now=now))
    may_edit_all = user_has_role(by, DIRECTORS)  # may_edit's rule: the assessor, or directors
    params = [
        now,
        assessment_id,
        version_id,
        *EDITABLE_STATUSES,
        *([] if may_edit_all else [by.pk]),
        *VISIBLE_ASSESSMENT.params(audience, user=by.pk, assessment=assessment_id),
        *answer_columns(rows),
        [None if item.note is None else row.note for item, row in zip(answers, rows, strict=True)],
        [item.revision or 0 for item in answers],
        now,
        by.pk,
        now,
        by.pk,
        len(rows),
    ]
    sql = _save_sql(audience=audience, may_edit_all=may_edit_all)
    try:
        # Inside a transaction (a test's, a caller's), a savepoint keeps a refusal to this
        # statement; in autocommit the statement is its own transaction.
        with (
            transaction.atomic() if connection.in_atomic_block else nullcontext(),
            prepared_cursor() as cursor,
        ):
            cursor.execute(sql, params)
            _ok, touched, questions, revisions, notes = cursor.fetchone()
    except DatabaseError as error:
        if is_refusal(error):
            return None
        raise
    if not touched:
        return None
    stored = {
        question: (revision, note)
        for question, revision, note in zip(questions, revisions, notes, strict=True)
    }
    for row in rows:
        row.revision, row.note = stored[row.question_id]
    return rows


@transaction.atomic
def _save_under_lock(
    assessment: Assessment,
    *,
    by: User,
    answers: Sequence[AnswerInput],
    in_sight_of: User | None,
) -> list[Answer]:
    assessment = lock_for_write(assessment, in_sight_of=in_sight_of)
    if not may_edit(assessment, by):
        raise PermissionDenied(_("Only the assessor or a director can change this assessment."))
    if not assessment.is_editable:
        raise AssessmentNotEditable()
    questions = questions_by_id(assessment.version)
    wanted = {item.question for item in answers if _is_id(item.question)}
    existing = _stored_answers(assessment.pk, wanted)
    now = timezone.now()
    rows = checked_rows(
        assessment, questions=questions, answers=answers, existing=existing, by=by, now=now
    )
    if connection.vendor == "postgresql":
        _upsert_in_one_statement(assessment, rows, now=now)
        return rows
    Answer.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["assessment", "question"],
        update_fields=[
            "value",
            "not_applicable",
            "na_reason",
            "note",
            "revision",
            "updated_at",
            "updated_by",
        ],
    )
    Assessment.objects.filter(pk=assessment.pk).update(updated_at=now)
    return rows


def _stored_answers(assessment_id: int, wanted: set[int]) -> dict[int, Answer]:
    """The assessment's stored answers to the ``wanted`` questions, by question id. Every
    answer is read and the others are dropped: one prepared statement of constant text
    (core.sql.Reused), where a list of ids made the ORM compile it on every save."""
    if not wanted:
        return {}
    return {
        row[_QUESTION_AT]: _ANSWER.of(row)
        for row in _ANSWERS_OF.rows(None, assessment=assessment_id)
        if row[_QUESTION_AT] in wanted
    }


_ANSWER = Columns(Answer)
_QUESTION_AT = _ANSWER.index("question_id")
_ANSWERS_OF = Reused(
    lambda _shape, assessment: (
        Answer.objects.filter(assessment_id=assessment).order_by().values_list(*_ANSWER.names())
    ),
    "assessment",
)


# What the ORM's upsert above does, and the assessment's time touched, in one prepared
# statement of constant text (the rows arrive as arrays): the ORM compiled 48 rows' VALUES
# on every save, which cost more than PostgreSQL writing them.
_UPSERT_SQL = one_line(
    """
    WITH touched AS (
        UPDATE assessments_assessment SET updated_at = %s WHERE id = %s
    )
    INSERT INTO assessments_answer
           (assessment_id, question_id, value, not_applicable, na_reason, note, revision,
            updated_at, updated_by_id)
    SELECT %s, a.question_id, a.value::jsonb, a.not_applicable, a.na_reason, a.note,
           a.revision, %s, %s
      FROM unnest(%s::bigint[], %s::text[], %s::boolean[], %s::varchar[], %s::text[],
                  %s::integer[]) AS a (question_id, value, not_applicable, na_reason, note,
                                       revision)
        ON CONFLICT (assessment_id, question_id) DO UPDATE
       SET value = EXCLUDED.value, not_applicable = EXCLUDED.not_applicable,
           na_reason = EXCLUDED.na_reason, note = EXCLUDED.note, revision = EXCLUDED.revision,
           updated_at = EXCLUDED.updated_at, updated_by_id = EXCLUDED.updated_by_id
    """
)


def answer_columns(rows: list[Answer]) -> list[list[Any]]:
    """The answers ``rows`` as the arrays a hand-written statement unnests, one per
    column: question, value (JSON text, as ``%s::text[]``), not applicable, reason."""
    encoder = Answer._meta.get_field("value").encoder
    return [
        [row.question_id for row in rows],
        [None if row.value is None else json.dumps(row.value, cls=encoder) for row in rows],
        [row.not_applicable for row in rows],
        [row.na_reason for row in rows],
    ]


def _upsert_in_one_statement(assessment: Assessment, rows: list[Answer], *, now: datetime) -> None:
    with prepared_cursor() as cursor:
        cursor.execute(
            _UPSERT_SQL,
            [
                now,
                assessment.pk,
                assessment.pk,
                now,
                rows[0].updated_by_id if rows else None,
                *answer_columns(rows),
                [row.note for row in rows],
                [row.revision for row in rows],
            ],
        )


def checked_rows(
    assessment: Assessment,
    *,
    questions: dict[int, Question],
    answers: Sequence[AnswerInput],
    existing: dict[int, Answer],
    by: User,
    now: datetime,
) -> list[Answer]:
    """The rows to write for ``answers`` to ``questions`` (the assessment's version's),
    given the answers already ``existing`` by question id — or AnswersRefused listing
    every problem: not a question of the version, a question answered twice, a stale
    revision, an invalid value."""
    problems: list[AnswerProblem] = []
    seen: set[Any] = set()
    rows: list[Answer] = []
    for index, item in enumerate(answers):
        question = questions.get(item.question) if _is_id(item.question) else None
        stored = existing.get(question.pk) if question is not None else None
        problem = _refusal(index, item, question, stored, seen)
        if problem is None:
            assert question is not None  # no refusal means a question of this assessment
            item = _keeping_what_is_stored(item, stored)
            problem = _invalid(index, item, question)
        if problem is not None:
            problems.append(problem)
            continue
        assert question is not None
        rows.append(_row(assessment, question, item, stored, by=by, now=now))
    if problems:
        raise AnswersRefused(problems)
    return rows


def _refusal(
    index: int,
    item: AnswerInput,
    question: Question | None,
    stored: Answer | None,
    seen: set[Any],
) -> AnswerProblem | None:
    """Why this item cannot be considered at all: not a question of the assessment, a
    second answer to one question, or written against a revision that is no longer the
    stored one (the sender gets what is stored now)."""
    if question is None:
        return AnswerProblem(
            index,
            item.question,
            "question",
            _("Not a question of this assessment."),
            "unknown_question",
        )
    if item.question in seen:
        return AnswerProblem(
            index,
            item.question,
            "question",
            _("This question is answered twice in one request."),
            "duplicate",
        )
    seen.add(item.question)
    if stored is not None and item.revision != stored.revision:
        return AnswerProblem(
            index,
            item.question,
            "revision",
            _(
                "Someone else changed this answer since you loaded it. It now reads "
                "as shown; check it and answer again."
            ),
            "stale",
            current=_stored(stored),
        )
    if stored is None and item.revision not in (None, 0):
        return AnswerProblem(
            index,
            item.question,
            "revision",
            _("This answer was cleared since you loaded it; answer again."),
            "stale",
            current=None,
        )
    return None


def _keeping_what_is_stored(item: AnswerInput, stored: Answer | None) -> AnswerInput:
    """An omitted note or reason (None) keeps what is stored."""
    return replace(
        item,
        note=item.note if item.note is not None else (stored.note if stored else ""),
        na_reason=(
            item.na_reason if item.na_reason is not None else (stored.na_reason if stored else "")
        ),
    )


def _invalid(index: int, item: AnswerInput, question: Question) -> AnswerProblem | None:
    field_problem = answer_problem(question, item)
    if field_problem is None:
        return None
    field, message = field_problem
    return AnswerProblem(index, item.question, field, message, "invalid")


def _row(
    assessment: Assessment | int,
    question: Question,
    item: AnswerInput,
    stored: Answer | None,
    *,
    by: User,
    now: datetime,
) -> Answer:
    """The answer row ``item`` makes; ``assessment`` may be just its id (an autosave knows
    no more, and making an Assessment to name it costs more than the row)."""
    values = {
        "id": None,
        "assessment_id": assessment.pk if isinstance(assessment, Assessment) else assessment,
        "question_id": question.pk,
        "value": None if item.not_applicable else item.value,
        "not_applicable": item.not_applicable,
        "na_reason": (item.na_reason or "").strip() if item.not_applicable else "",
        "note": item.note or "",
        "revision": (stored.revision + 1) if stored is not None else 1,
        "updated_at": now,
        "updated_by_id": by.pk,
    }
    # Made from its columns in the model's order and given its related rows directly: a
    # whole questionnaire's rows are made at once, and keyword arguments through the
    # relations' descriptors cost twice as much. A new field of Answer fails here loudly.
    row = Answer(*(values[attname] for attname in _ANSWER_ATTNAMES))
    if isinstance(assessment, Assessment):
        _ASSESSMENT_OF.set_cached_value(row, assessment)
    _QUESTION_OF.set_cached_value(row, question)
    _UPDATED_BY.set_cached_value(row, by)
    return row


_ANSWER_ATTNAMES = _ANSWER.names()  # (once: every row is made through them)
_ASSESSMENT_OF, _QUESTION_OF, _UPDATED_BY = (
    Answer.assessment.field,
    Answer.question.field,
    Answer.updated_by.field,
)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_nul(value: Any) -> bool:
    # PostgreSQL text cannot hold NUL; refuse it as bad input rather than fail on write.
    return isinstance(value, str) and "\x00" in value


def answer_problem(question: Question, item: AnswerInput) -> tuple[str, str] | None:
    """What is wrong with ``item`` as an answer to ``question``: (field, message), or None."""
    for field in ("note", "na_reason", "value"):
        if _has_nul(getattr(item, field)):
            return field, _("Remove the invisible control character (NUL) from the text.")
        if has_lone_surrogate(getattr(item, field)):
            return field, _("Remove the broken character from the text.")
    if item.note is not None and (not isinstance(item.note, str) or len(item.note) > MAX_TEXT):
        return "note", _("Keep the note under %(limit)d characters.") % {"limit": MAX_TEXT}
    if item.not_applicable:
        if not question.allow_na:
            return "not_applicable", _("“Not applicable” is not allowed for this question.")
        if not isinstance(item.na_reason, str) or not item.na_reason.strip():
            return "na_reason", _("Say why this question does not apply.")
        if len(item.na_reason) > 500:
            return "na_reason", _("Keep the reason under 500 characters.")
        return None
    if item.value is None:
        return None  # clears the answer
    message = _check_value(question, item.value)
    return ("value", message) if message else None
