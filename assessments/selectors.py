"""Reads of questionnaires: lists for the pages and the API, and the scoring structure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from assessments.interchange import structure_from_document
from assessments.models import (
    Assessment,
    AssessmentStatus,
    Dimension,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.scoring import Structure
from clients.models import Client, Engagement, EngagementPhaseChange, TimelineEntry
from clients.selectors import clients_visible_to


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


@dataclass(frozen=True)
class VersionContent:
    """What a version asks, loaded once: its questions by id (each with its dimension)
    and the scoring engine's structure built from the same rows."""

    questions: dict[int, Question]
    structure: Structure


_PUBLISHED: dict[int, VersionContent] = {}


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
    return content


def structure_for_version(version: QuestionnaireVersion) -> Structure:
    """The scoring structure of a version."""
    return version_content(version).structure


def questions_by_id(version: QuestionnaireVersion) -> dict[int, Question]:
    """A version's questions by id, each with its dimension, in the form's order."""
    return version_content(version).questions


def assessments_visible_to(user: Any) -> QuerySet[Assessment]:
    """Assessments of the clients the user may see (the one scoping rule of clients)."""
    return Assessment.objects.filter(engagement__client__in=clients_visible_to(user))


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


def client_trend(engagements: Any) -> dict[str, Any]:
    """The client's submitted assessments over time, from prefetched engagements (no
    query): the latest scores for the overview, and points for the trend chart."""
    results = sorted(
        (
            a
            for engagement in engagements
            for a in engagement.assessments.all()
            if a.status in (AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED)
            and a.submitted_at is not None
        ),
        key=lambda a: a.submitted_at,
    )
    width, height, pad = 600.0, 160.0, 10.0
    span = (
        (results[-1].submitted_at - results[0].submitted_at).total_seconds()
        if len(results) > 1
        else 0.0
    )

    def point(assessment: Assessment, value: float | None) -> str | None:
        if value is None:
            return None
        offset = (assessment.submitted_at - results[0].submitted_at).total_seconds()
        x = pad + (width - 2 * pad) * (offset / span if span else 0.5)
        y = pad + (height - 2 * pad) * (1 - value / 100)
        return f"{x:.1f},{y:.1f}"

    return {
        "latest": results[-1] if results else None,
        "points": [
            {
                "assessment": a,
                "maturity": a.maturity_score,
                "defensiveness": a.defensiveness_index,
                "m_xy": point(a, a.maturity_score),
                "d_xy": point(a, a.defensiveness_index),
            }
            for a in results
        ],
        "maturity_line": " ".join(p for a in results if (p := point(a, a.maturity_score))),
        "defensiveness_line": " ".join(
            p for a in results if (p := point(a, a.defensiveness_index))
        ),
        "width": int(width),
        "height": int(height),
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
                        queryset=Assessment.objects.select_related("assessor")
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
