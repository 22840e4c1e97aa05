"""Every submitted assessment of a questionnaire version as rows of a spreadsheet.

:func:`export_rows` yields a header and then one row per submitted (or approved)
assessment, with its result and one column per question in questionnaire order. It runs
three queries whatever the number of assessments — the questions, then two server-side
cursors read side by side: the assessments ordered by id and all their answers ordered by
assessment id, merged in Python (a merge join), so memory stays flat and nothing is
fetched per assessment. :func:`export_csv` turns the rows into the bytes of a UTF-8 CSV
file for a streaming response.

Column titles are identifiers (``maturity_score``, question codes), as in the client
import template, so scripts that read the file do not depend on the reader's language;
the engagement column holds the process type's label in the active language.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime
from itertools import chain

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone, translation

from assessments import question_types
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Question,
    QuestionnaireVersion,
)
from clients.models import ProcessType
from core.numbers import spreadsheet_number

EXPORTED_STATUSES = (AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED)
NOT_APPLICABLE = "N/A"
FIXED_COLUMNS = (
    "assessment_id", "client", "engagement", "assessor", "started_at", "submitted_at",
    "status", "maturity_score", "maturity_level", "defensiveness_index", "quadrant",
    "completeness",
)  # fmt: skip
BOM = "\ufeff"
ASSESSMENTS_CHUNK = 2_000
ANSWERS_CHUNK = 10_000
CSV_FLUSH_ROWS = 200
RESULT_DIGITS = 6


def _moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).isoformat(sep=" ", timespec="seconds")


def export_rows(version: QuestionnaireVersion) -> Iterator[list[str]]:
    """The header, then one row per submitted or approved assessment of ``version`` (by
    id). Answers: "N/A" when not applicable, "yes"/"no", a choice's option code, numbers
    and text as they are; an unanswered question is an empty cell."""
    questions = list(
        Question.objects.filter(version=version)
        .order_by("dimension__position", "dimension_id", "position", "id")
        .values_list("id", "code", "type")
    )
    column_of = {question_id: index for index, (question_id, _, _) in enumerate(questions)}
    # Answers arrive as their JSON text (the database casts the value); each type writes
    # its own cell, most without decoding JSON in Python.
    render = [question_types.get(type_).cell for _, _, type_ in questions]
    width = len(questions)
    yield [*FIXED_COLUMNS, *(code for _, code, _ in questions)]

    engagement_labels = {value: str(label) for value, label in ProcessType.choices}
    assessments = (
        Assessment.objects.filter(version=version, status__in=EXPORTED_STATUSES)
        .order_by("id")
        .values_list(
            "id",
            "engagement__client__name",
            "engagement__process_type",
            "assessor__username",
            "created_at",
            "submitted_at",
            "status",
            "maturity_score",
            "maturity_level",
            "defensiveness_index",
            "quadrant",
            "completeness",
        )
        .iterator(chunk_size=ASSESSMENTS_CHUNK)
    )
    # The assessments' cursor opens first, the answers' right after (each DECLARE takes its
    # own snapshot), so an assessment submitted in between is simply not exported yet: its
    # answers, which the second cursor sees, are skipped by the merge. The answers of
    # returned assessments are read too, so one returned in between keeps its answers.
    first = next(assessments, None)
    answers = (
        Answer.objects.filter(
            assessment__version=version,
            assessment__status__in=(*EXPORTED_STATUSES, AssessmentStatus.RETURNED),
        )
        .order_by("assessment_id")
        .values_list("assessment_id", "question_id", Cast("value", TextField()), "not_applicable")
        .iterator(chunk_size=ANSWERS_CHUNK)
    )
    pending = next(answers, None)
    for (
        assessment_id, client, process_type, assessor, started_at, submitted_at, status,
        maturity_score, maturity_level, defensiveness_index, quadrant, completeness,
    ) in chain([first] if first is not None else [], assessments):  # fmt: skip
        cells = [""] * width
        while pending is not None and pending[0] < assessment_id:
            pending = next(answers, None)
        while pending is not None and pending[0] == assessment_id:
            column = column_of.get(pending[1])
            if column is not None:
                cells[column] = NOT_APPLICABLE if pending[3] else render[column](pending[2])
            pending = next(answers, None)
        yield [
            str(assessment_id),
            client,
            engagement_labels.get(process_type, process_type),
            assessor,
            _moment(started_at),
            _moment(submitted_at),
            status,
            spreadsheet_number(maturity_score, RESULT_DIGITS),
            spreadsheet_number(maturity_level),
            spreadsheet_number(defensiveness_index, RESULT_DIGITS),
            quadrant,
            spreadsheet_number(completeness, RESULT_DIGITS),
            *cells,
        ]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """A text cell that a spreadsheet would run as a formula (=HYPERLINK(...), +1+1,
    @SUM) is quoted with a leading apostrophe; numbers, negative ones included, stay
    numbers. Client names and free-text answers are typed by people, so this matters."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def export_csv(version: QuestionnaireVersion, *, language: str | None = None) -> Iterator[bytes]:
    """:func:`export_rows` as a UTF-8 CSV file, byte-order mark first so Excel reads the
    accents right, in chunks of a few hundred rows. ``language`` is the one the labels
    are written in: a streamed body is produced after the view has returned."""
    with translation.override(language) if language else nullcontext():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(BOM)
        pending = 0
        for row in export_rows(version):
            writer.writerow([spreadsheet_safe(cell) for cell in row])
            pending += 1
            if pending >= CSV_FLUSH_ROWS:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
                pending = 0
        yield buffer.getvalue().encode()
