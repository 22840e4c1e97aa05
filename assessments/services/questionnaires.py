"""Every write to questionnaires: import, copy to a draft, replace a draft, publish.

A version's content is written in one go from a questionnaire document (the JSON format
of assessments.interchange), so the pages, the commands, the default questionnaire and
copies all share one validated path, and a malformed document changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from assessments import question_types
from assessments.interchange import FORMAT, FORMAT_VERSION, Problem, problems_in
from assessments.models import (
    Dimension,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.signals import version_published


class DocumentProblems(ValidationError):
    """A questionnaire document that cannot be imported, with every problem and its path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__([str(problem) for problem in problems], code="invalid_document")
        self.problems = problems


def _check(document: Any) -> None:
    problems = problems_in(document)
    if problems:
        raise DocumentProblems(problems)


def _write_content(version: QuestionnaireVersion, document: Mapping[str, Any]) -> None:
    dimensions = []
    for position, item in enumerate(document["dimensions"]):
        dimensions.append(
            Dimension(
                version=version,
                code=item["code"],
                kind=item["kind"],
                weight=float(item.get("weight", 1)),
                position=position,
                name=dict(item["name"]),
                description=dict(item.get("description") or {}),
            )
        )
    # bulk_create skips save(), and with it the immutability guard: safe here because the
    # version was just created as a draft or checked editable by the caller.
    Dimension.objects.bulk_create(dimensions)
    questions = []
    for dimension, item in zip(dimensions, document["dimensions"], strict=True):
        for position, q in enumerate(item["questions"]):
            questions.append(
                Question(
                    version=version,
                    dimension=dimension,
                    code=q["code"],
                    type=q["type"],
                    position=position,
                    weight=float(q.get("weight", 1)),
                    reverse=bool(q.get("reverse", False)),
                    required=bool(q.get("required", True)),
                    allow_na=bool(q.get("allow_na", False)),
                    text=dict(q["text"]),
                    help=dict(q.get("help") or {}),
                    client=dict(q.get("client") or {}),
                    # What the type carries beyond the common keys (levels, options…).
                    **{
                        attribute: q[key]
                        for key, attribute in question_types.get(q["type"]).fields
                        if key in q
                    },
                )
            )
    Question.objects.bulk_create(questions)


@transaction.atomic
def version_import(
    *, document: Any, by: User | None, based_on: QuestionnaireVersion | None = None
) -> QuestionnaireVersion:
    """A new draft version from a document; the questionnaire is created if its code is new.

    Questionnaire-level texts (name, description) follow the document: importing a
    corrected translation fixes the name everywhere.
    """
    _check(document)
    meta = document["questionnaire"]
    questionnaire, created = Questionnaire.objects.select_for_update().get_or_create(
        code=meta["code"],
        defaults={"name": dict(meta["name"]), "description": dict(meta.get("description") or {})},
    )
    if not created:
        questionnaire.name = dict(meta["name"])
        questionnaire.description = dict(meta.get("description") or {})
        questionnaire.save(update_fields=["name", "description"])
    number = (questionnaire.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=number,
        status=VersionStatus.DRAFT,
        notes=dict(document.get("notes") or {}),
        based_on=based_on,
    )
    _write_content(version, document)
    return version


def version_export(version: QuestionnaireVersion) -> dict[str, Any]:
    """The version as a questionnaire document (the import format)."""
    questionnaire = version.questionnaire
    dimensions = list(version.dimensions.order_by("position", "id"))
    questions: dict[int, list[Question]] = {}
    for question in version.questions.order_by("position", "id"):
        questions.setdefault(question.dimension_id, []).append(question)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "questionnaire": {
            "code": questionnaire.code,
            "name": questionnaire.name,
            "description": questionnaire.description,
        },
        "version": version.number,
        "status": version.status,
        "notes": version.notes,
        "dimensions": [
            {
                "code": dimension.code,
                "kind": dimension.kind,
                "weight": dimension.weight,
                "name": dimension.name,
                "description": dimension.description,
                "questions": [q.document() for q in questions.get(dimension.pk, [])],
            }
            for dimension in dimensions
        ],
    }


def version_copy_to_draft(
    *, version: QuestionnaireVersion, by: User | None
) -> QuestionnaireVersion:
    """Editing a published version starts here: a new draft with the same content."""
    return version_import(document=version_export(version), by=by, based_on=version)


@transaction.atomic
def version_replace_content(
    *, version: QuestionnaireVersion, document: Any, by: User | None
) -> QuestionnaireVersion:
    """Replace a draft's whole content with a document's (the draft editor saves this way)."""
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    version.guard_editable()
    _check(document)
    if document["questionnaire"]["code"] != version.questionnaire.code:
        raise DocumentProblems(
            [
                Problem(
                    "questionnaire.code",
                    _("must stay %(code)s") % {"code": version.questionnaire.code},
                )
            ]
        )
    version.questions.all().delete()
    version.dimensions.all().delete()
    version.notes = dict(document.get("notes") or {})
    version.save(update_fields=["notes"])
    _write_content(version, document)
    return version


@transaction.atomic
def version_publish(*, version: QuestionnaireVersion, by: User | None) -> QuestionnaireVersion:
    """Publish a draft: it becomes the questionnaire's current version, immutable for good,
    and the version it replaces is retired (its assessments keep pointing at it)."""
    # Lock the questionnaire first: two drafts published at once queue here instead of
    # colliding on the one-published-version constraint.
    Questionnaire.objects.select_for_update().get(pk=version.questionnaire_id)
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    version.guard_editable()
    _check(version_export(version))
    QuestionnaireVersion.objects.filter(
        questionnaire_id=version.questionnaire_id, status=VersionStatus.PUBLISHED
    ).update(status=VersionStatus.RETIRED)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = by
    # Not save(): the guard would refuse the very change that publishes it.
    QuestionnaireVersion.objects.filter(pk=version.pk).update(
        status=version.status, published_at=version.published_at, published_by=by
    )
    version_published.send(sender=QuestionnaireVersion, version=version)
    return version


@transaction.atomic
def questionnaire_set_default(*, questionnaire: Questionnaire, by: User | None) -> Questionnaire:
    Questionnaire.objects.filter(is_default=True).exclude(pk=questionnaire.pk).update(
        is_default=False
    )
    questionnaire.is_default = True
    questionnaire.save(update_fields=["is_default"])
    return questionnaire


@transaction.atomic
def version_tune(
    *,
    version: QuestionnaireVersion,
    by: User | None,
    dimension_weights: Mapping[str, float],
    questions: Mapping[str, Mapping[str, Any]],
) -> QuestionnaireVersion:
    """Change a draft's weights and question flags (required, N/A allowed, reverse) without
    touching its texts: what directors tune most. Keys are dimension and question codes."""
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    version.guard_editable()
    document = version_export(version)
    for dimension in document["dimensions"]:
        if dimension["code"] in dimension_weights:
            dimension["weight"] = dimension_weights[dimension["code"]]
        for question in dimension["questions"]:
            for field, value in questions.get(question["code"], {}).items():
                if field not in {"weight", "required", "allow_na", "reverse"}:
                    raise TypeError(f"Cannot tune {field!r}")
                question[field] = value
    return version_replace_content(version=version, document=document, by=by)
