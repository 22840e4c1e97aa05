"""Reads of questionnaires: lists for the pages and the API, and the scoring structure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, cast

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from assessments.interchange import structure_from_document
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AssessmentTransition,
    Dimension,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.scoring import Structure
from clients.models import Client, Engagement, EngagementPhaseChange, TimelineEntry
from clients.selectors import clients_visible_to, visible_through
from core.sql import Columns, Reused


def questionnaire_list() -> QuerySet[Questionnaire]:
    return Questionnaire.objects.prefetch_related(
        Prefetch(
            "versions",
            queryset=QuestionnaireVersion.objects.annotate(
                question_count=Count("questions", distinct=True)
            ).order_by("-number"),
        )
    )


def version_with_structure() -> QuerySet[QuestionnaireVersion]:
    """Versions with dimensions and questions in two extra queries, whatever their size."""
    return QuestionnaireVersion.objects.select_related(
        "questionnaire", "published_by"
    ).prefetch_related(
        Prefetch(
            "dimensions",
            queryset=Dimension.objects.order_by("position", "id").prefetch_related(
                Prefetch("questions", queryset=Question.objects.order_by("position", "id"))
            ),
        )
    )


def default_questionnaire() -> Questionnaire | None:
    return Questionnaire.objects.filter(is_default=True).first()


def default_version() -> QuestionnaireVersion | None:
    """The current version of the default questionnaire (its newest published one), in
    one prepared statement: what a new assessment is made on unless it names another."""
    rows = _DEFAULT_VERSION.rows(None)
    return _VERSION.of(rows[0]) if rows else None


def default_version_sql() -> tuple[str, list[Any]]:
    """default_version's statement and its parameters, for a statement that holds it
    (a new draft's insert): its columns are those of ``Columns(QuestionnaireVersion)``."""
    return _DEFAULT_VERSION.text(None), _DEFAULT_VERSION.params(None)


_VERSION = Columns(QuestionnaireVersion)
_DEFAULT_VERSION = Reused(
    lambda _shape: (
        QuestionnaireVersion.objects.filter(
            questionnaire__is_default=True, status=VersionStatus.PUBLISHED
        )
        .order_by("-number")
        .values_list(*_VERSION.names())[:1]
    )
)


@dataclass(frozen=True)
class VersionContent:
    """What a version asks, loaded once: its questions by id (each with its dimension)
    and the scoring engine's structure built from the same rows."""

    questions: dict[int, Question]
    structure: Structure


_PUBLISHED: dict[int, VersionContent] = {}
# Every question of the versions in _PUBLISHED, by id: an autosave names only its question,
# and finds it here without a query once this process has loaded the version.
_PUBLISHED_QUESTIONS: dict[int, Question] = {}


def version_content(version: QuestionnaireVersion) -> VersionContent:
    """One query. Published and retired versions never change, so theirs is loaded once
    per process; a draft's every time."""
    if not version.is_editable and version.pk in _PUBLISHED:
        return _PUBLISHED[version.pk]
    questions = {
        q.pk: q
        for q in Question.objects.filter(version=version)
        .select_related("dimension")
        .order_by("dimension__position", "dimension_id", "position", "id")
    }
    by_dimension: dict[int, list[Question]] = {}
    for question in questions.values():
        by_dimension.setdefault(question.dimension_id, []).append(question)
    structure = structure_from_document(
        {
            "dimensions": [
                {
                    "code": rows[0].dimension.code,
                    "kind": rows[0].dimension.kind,
                    "weight": rows[0].dimension.weight,
                    "questions": [q.document() for q in rows],
                }
                for rows in by_dimension.values()
            ]
        }
    )
    content = VersionContent(questions, structure)
    if not version.is_editable:
        _PUBLISHED[version.pk] = content
        _PUBLISHED_QUESTIONS.update(questions)
    return content


def published_question(pk: int) -> tuple[Question, dict[int, Question]] | None:
    """A question of a published (or retired) version this process has already loaded, with
    its dimension, and all its version's questions by id; None otherwise. No query: what is
    not known here is read the usual way."""
    question = _PUBLISHED_QUESTIONS.get(pk)
    if question is None:
        return None
    return question, _PUBLISHED[question.version_id].questions


def structure_for_version(version: QuestionnaireVersion) -> Structure:
    """The scoring structure of a version."""
    return version_content(version).structure


def questions_by_id(version: QuestionnaireVersion) -> dict[int, Question]:
    """A version's questions by id, each with its dimension, in the form's order."""
    return version_content(version).questions


def assessments_visible_to(user: Any) -> QuerySet[Assessment]:
    """Assessments of the clients the user may see (the one scoping rule of clients); a
    rater's sheet only to its rater (the others see it in the round's reconciliation)."""
    return Assessment.objects.filter(visible_through(user, "engagement__client")).exclude(
        Q(rater_sheet=True) & ~Q(assessor_id=getattr(user, "pk", None))
    )


def answers_in_form_order(assessment: Assessment) -> list[Answer]:
    """The assessment's answers in the form's order, each with its question (from the
    version's, loaded once per process): what the API's detail shows. One prepared
    statement (core.sql.Reused) — a review's answer reads them back on every call."""
    rows = _ANSWERS_IN_FORM_ORDER.rows(None, assessment=assessment.pk)
    return with_questions([_ANSWER.of(row) for row in rows], questions_by_id(assessment.version))


def with_questions(answers: list[Answer], questions: dict[int, Question]) -> list[Answer]:
    """``answers``, each with its question from ``questions`` (their version's, from
    version_content) cached, so showing them reads none."""
    for answer in answers:
        question = questions.get(answer.question_id)
        if question is not None:
            _QUESTION_OF.set_cached_value(answer, question)
    return answers


def history_of(assessment: Assessment) -> list[AssessmentTransition]:
    """The assessment's status changes, oldest first. One prepared statement."""
    return [_TRANSITION.of(row) for row in _HISTORY.rows(None, assessment=assessment.pk)]


# Answers in the form's order: their questions' order in version_content.
FORM_ORDER = (
    "question__dimension__position",
    "question__dimension_id",
    "question__position",
    "question_id",
)
_ANSWER, _TRANSITION = Columns(Answer), Columns(AssessmentTransition)
_QUESTION_OF = Answer.question.field
_ANSWERS_IN_FORM_ORDER = Reused(
    lambda _shape, assessment: (
        Answer.objects.filter(assessment_id=assessment)
        .order_by(*FORM_ORDER)
        .values_list(*_ANSWER.names())
    ),
    "assessment",
)
_HISTORY = Reused(
    lambda _shape, assessment: (
        AssessmentTransition.objects.filter(assessment_id=assessment)
        .order_by("at", "id")
        .values_list(*_TRANSITION.names())
    ),
    "assessment",
)


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The engagement's last submitted (or approved) assessment before this one."""
    if assessment.submitted_at is None:
        return None
    return (
        Assessment.objects.filter(
            engagement_id=assessment.engagement_id,
            submitted_at__lt=assessment.submitted_at,
            status__in=[AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED],
        )
        .order_by("-submitted_at", "-id")
        .first()
    )


# The client page's trend charts: each engagement's own line on one time scale shared by
# the client's engagements, x in percent of the width (so the SVG's text keeps its size at
# any width) and y in pixels of a fixed height.
TREND_HEIGHT = 150
TREND_TOP, TREND_BOTTOM = 10.0, 124.0  # the plot's y range: 100 at the top, 0 at the bottom
TREND_LEFT, TREND_RIGHT = 8.0, 97.0  # the plot's x range, percent


def submitted_in_order(engagement: Any) -> list[Assessment]:
    """An engagement's submitted (or approved) assessments, oldest first, from its
    prefetched ``assessments`` (no query)."""
    return sorted(
        (
            a
            for a in engagement.assessments.all()
            if a.status in (AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED)
            and a.submitted_at is not None
        ),
        key=lambda a: (a.submitted_at, a.pk),
    )


def _submitted_at(assessment: Assessment) -> datetime:
    """When a submitted assessment was submitted (``submitted_in_order`` keeps only those)."""
    return cast("datetime", assessment.submitted_at)


def client_trend(engagements: Any) -> dict[str, Any]:
    """The client's submitted assessments over time, from prefetched engagements (no
    query): the latest for the overview, and one series per engagement for the charts."""
    done = [
        (engagement, rows) for engagement in engagements if (rows := submitted_in_order(engagement))
    ]
    if not done:
        return {"latest": None, "series": [], "height": TREND_HEIGHT}
    start = min(_submitted_at(rows[0]) for _, rows in done)
    latest = max((rows[-1] for _, rows in done), key=_submitted_at)
    span = (_submitted_at(latest) - start).total_seconds()

    def x(assessment: Assessment) -> float:
        offset = (_submitted_at(assessment) - start).total_seconds()
        share = offset / span if span else 0.5
        return round(TREND_LEFT + (TREND_RIGHT - TREND_LEFT) * share, 2)

    def y(value: float | None) -> float | None:
        if value is None:
            return None
        return round(TREND_TOP + (TREND_BOTTOM - TREND_TOP) * (1 - value / 100), 1)

    series = []
    for engagement, mine in done:
        points = [
            {
                "assessment": a,
                "maturity": a.maturity_score,
                "defensiveness": a.defensiveness_index,
                "x": x(a),
                "y_maturity": y(a.maturity_score),
                "y_defensiveness": y(a.defensiveness_index),
            }
            for a in mine
        ]
        series.append(
            {
                "engagement": engagement,
                "points": points,
                "first": points[0],
                "last": points[-1],
                # Consecutive pairs, for the lines between them.
                "steps": list(pairwise(points)),
            }
        )
    return {
        "latest": latest,
        "series": series,
        "height": TREND_HEIGHT,
        "grid": [{"value": v, "y": y(v)} for v in (100, 50, 0)],
        "axis_y": TREND_HEIGHT - 6,
        "left": TREND_LEFT,
        "right": TREND_RIGHT,
    }


def questionnaires_in_use() -> list[Questionnaire]:
    """Questionnaires an assessment can start on (they have a published version), the
    default first."""
    return list(
        Questionnaire.objects.filter(versions__status=VersionStatus.PUBLISHED)
        .distinct()
        .order_by("-is_default", "code")
    )


def client_page(*, user: Any, pk: int) -> Client:
    """One client the user may see, with what its page and report show (engagements with
    their phase changes and assessments, stakeholders, past experiences, the timeline);
    404 for anyone else."""
    return get_object_or_404(
        clients_visible_to(user)
        .select_related("owner")
        .prefetch_related(
            "team_members",
            Prefetch(
                "engagements",
                queryset=Engagement.objects.order_by("process_type", "id").prefetch_related(
                    Prefetch(
                        "phase_changes",
                        queryset=EngagementPhaseChange.objects.select_related("changed_by"),
                    ),
                    Prefetch(
                        "assessments",
                        queryset=Assessment.objects.filter(rater_sheet=False)
                        .select_related("assessor")
                        .defer("result")
                        .order_by("-created_at", "-id"),
                    ),
                ),
            ),
            "stakeholders",
            "past_experiences",
            Prefetch(
                "timeline",
                queryset=TimelineEntry.objects.select_related("author", "engagement"),
            ),
        ),
        pk=pk,
    )
