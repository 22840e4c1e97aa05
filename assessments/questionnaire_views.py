"""Directors' questionnaire pages: list, read a version in any language, import, export,
copy to a draft, edit a draft, publish."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import DIRECTORS, AuthenticatedHttpRequest, role_required
from assessments.models import QuestionnaireVersion
from assessments.selectors import questionnaire_list, version_with_structure
from assessments.services import (
    DocumentProblems,
    version_copy_to_draft,
    version_export,
    version_import,
    version_publish,
    version_replace_content,
    version_tune,
)
from core import languages
from core.downloads import json_download

MAX_UPLOAD = 2 * 1024 * 1024


def _parse_json(raw: bytes | str) -> tuple[object | None, str | None]:
    try:
        return json.loads(raw), None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = (
            _("line %(line)d, column %(column)d: ") % {"line": error.lineno, "column": error.colno}
            if isinstance(error, json.JSONDecodeError)
            else ""
        )
        return None, _("The file is not valid JSON (%(where)s%(reason)s).") % {
            "where": where,
            "reason": getattr(error, "msg", str(error)),
        }


@role_required(*DIRECTORS)
def questionnaire_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request, "assessments/questionnaires.html", {"questionnaires": questionnaire_list()}
    )


@role_required(*DIRECTORS)
def version_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(version_with_structure(), pk=pk)
    language = request.GET.get("lang") or request.LANGUAGE_CODE
    if language not in languages.codes():
        language = languages.source()
    return render(
        request,
        "assessments/version_detail.html",
        {
            "version": version,
            "language": language,
            "languages": [(code, languages.native_name(code)) for code in languages.codes()],
        },
    )


@role_required(*DIRECTORS)
def version_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(QuestionnaireVersion.objects.select_related("questionnaire"), pk=pk)
    filename = f"{slugify(version.questionnaire.code)}-v{version.number}.json"
    return json_download(version_export(version), filename)


@role_required(*DIRECTORS)
@require_POST
def version_copy(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(QuestionnaireVersion, pk=pk)
    draft = version_copy_to_draft(version=version, by=request.user)
    messages.success(request, _("Draft version %(number)d created.") % {"number": draft.number})
    return redirect("assessments:version", pk=draft.pk)


@role_required(*DIRECTORS)
@require_POST
def version_publish_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(QuestionnaireVersion, pk=pk)
    if not version.is_editable:
        messages.error(request, _("This version is already published or retired."))
        return redirect("assessments:version", pk=pk)
    try:
        version_publish(version=version, by=request.user)
    except DocumentProblems as problems:
        for problem in problems.problems:
            messages.error(request, str(problem))
        return redirect("assessments:version", pk=pk)
    messages.success(
        request,
        _("Version %(number)d published: new assessments use it from now on.")
        % {"number": version.number},
    )
    return redirect("assessments:version", pk=pk)


@role_required(*DIRECTORS)
def version_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Edit a draft as a questionnaire document. What the director typed is kept when it
    has problems, and every problem is listed with its path."""
    version = get_object_or_404(QuestionnaireVersion.objects.select_related("questionnaire"), pk=pk)
    if not version.is_editable:
        messages.error(
            request, _("A published version cannot be changed; copy it to a new draft instead.")
        )
        return redirect("assessments:version", pk=pk)
    problems: list[str] = []
    text = json.dumps(version_export(version), ensure_ascii=False, indent=2)
    if request.method == "POST":
        text = request.POST.get("document", "")
        document, error = _parse_json(text)
        if error:
            problems = [error]
        else:
            try:
                version_replace_content(version=version, document=document, by=request.user)
            except DocumentProblems as invalid:
                problems = [str(problem) for problem in invalid.problems]
            else:
                messages.success(request, _("Draft saved."))
                return redirect("assessments:version", pk=pk)
    return render(
        request,
        "assessments/version_edit.html",
        {"version": version, "text": text, "problems": problems},
    )


@role_required(*DIRECTORS)
def version_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    problems: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            problems = [_("Choose a JSON file to import.")]
        elif (upload.size or 0) > MAX_UPLOAD:
            problems = [_("The file is larger than 2 MB.")]
        else:
            document, error = _parse_json(upload.read())
            if error:
                problems = [error]
            else:
                try:
                    version = version_import(document=document, by=request.user)
                except DocumentProblems as invalid:
                    problems = [str(problem) for problem in invalid.problems]
                else:
                    messages.success(
                        request,
                        _("Imported as draft version %(number)d. Review it, then publish.")
                        % {"number": version.number},
                    )
                    return redirect("assessments:version", pk=version.pk)
    return render(request, "assessments/version_upload.html", {"problems": problems})


def _weight(raw: str | None) -> float | None:
    try:
        value = float((raw or "").replace(",", "."))
    except ValueError:
        return None
    return value if 0 < value <= 100 else None


@role_required(*DIRECTORS)
def version_tune_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Tune a draft's weights and question flags in a form; texts stay in the JSON editor."""
    version = get_object_or_404(version_with_structure(), pk=pk)
    if not version.is_editable:
        messages.error(
            request, _("A published version cannot be changed; copy it to a new draft instead.")
        )
        return redirect("assessments:version", pk=pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        dimension_weights: dict[str, float] = {}
        questions: dict[str, dict[str, object]] = {}
        for dimension in version.dimensions.all():
            key = f"dimension-{dimension.code}-weight"
            weight = _weight(request.POST.get(key))
            if weight is None:
                errors[key] = _("A weight is a number greater than 0 and at most 100.")
            else:
                dimension_weights[dimension.code] = weight
            for question in dimension.questions.all():
                key = f"question-{question.code}-weight"
                weight = _weight(request.POST.get(key))
                if weight is None:
                    errors[key] = _("A weight is a number greater than 0 and at most 100.")
                    continue
                settings: dict[str, object] = {"weight": weight}
                for flag in ("required", "allow_na", "reverse"):
                    settings[flag] = request.POST.get(f"question-{question.code}-{flag}") == "on"
                if not question.spec.scored:
                    settings["reverse"] = False
                questions[question.code] = settings
        if not errors:
            version_tune(
                version=version,
                by=request.user,
                dimension_weights=dimension_weights,
                questions=questions,
            )
            messages.success(request, _("Draft saved."))
            return redirect("assessments:version", pk=pk)
    return render(
        request,
        "assessments/version_tune.html",
        {"version": version, "rows": _tune_rows(version, request.POST if errors else None, errors)},
    )


def _tune_rows(
    version: QuestionnaireVersion, posted: Any, errors: dict[str, str]
) -> list[dict[str, Any]]:
    """What the tune form shows: stored values, or what was typed when it had errors."""

    def field(name: str, stored: object) -> dict[str, Any]:
        value = posted.get(name, "") if posted is not None else stored
        return {"name": name, "value": value, "error": errors.get(name)}

    def flag(name: str, stored: bool) -> dict[str, Any]:
        checked = posted.get(name) == "on" if posted is not None else stored
        return {"name": name, "checked": checked}

    rows = []
    for dimension in version.dimensions.all():
        rows.append(
            {
                "dimension": dimension,
                "weight": field(f"dimension-{dimension.code}-weight", dimension.weight),
                "questions": [
                    {
                        "question": q,
                        "weight": field(f"question-{q.code}-weight", q.weight),
                        "required": flag(f"question-{q.code}-required", q.required),
                        "allow_na": flag(f"question-{q.code}-allow_na", q.allow_na),
                        "reverse": flag(f"question-{q.code}-reverse", q.reverse),
                    }
                    for q in dimension.questions.all()
                ],
            }
        )
    return rows
