"""Reads of questionnaires: lists for the pages and the API, and the scoring structure."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from assessments.interchange import structure_from_document
from assessments.models import Dimension, Question, Questionnaire, QuestionnaireVersion
from assessments.scoring import Structure


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


_STRUCTURES: dict[int, Structure] = {}


def structure_for_version(version: QuestionnaireVersion) -> Structure:
    """The scoring structure of a version. Published and retired versions never change,
    so theirs is computed once per process; a draft's is rebuilt every time."""
    if version.is_editable:
        return _build_structure(version)
    if version.pk not in _STRUCTURES:
        _STRUCTURES[version.pk] = _build_structure(version)
    return _STRUCTURES[version.pk]


def _build_structure(version: QuestionnaireVersion) -> Structure:
    from assessments.services import version_export

    return structure_from_document(version_export(version))
