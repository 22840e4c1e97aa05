"""Assessment pages: start or resume, fill section by section with every answer saved as
it is given (htmx), submit, see the result, and review (directors)."""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import DIRECTORS, AuthenticatedHttpRequest, role_required, user_has_role
from assessments import fill_fragments, question_types
from assessments.labels import LEVELS, QUADRANT_HINTS, QUADRANTS
from assessments.models import Answer, Assessment, AssessmentStatus, Question, Questionnaire
from assessments.result_sections import sections_for
from assessments.review_queue import PAGE_SIZE as QUEUE_PAGE_SIZE
from assessments.review_queue import Queue
from assessments.scoring import compare
from assessments.selectors import (
    assessments_visible_to,
    previous_assessment,
    published_question,
    questions_by_id,
)
from assessments.services import (
    AnswerInput,
    AnswersRefused,
    AssessmentNotEditable,
    MissingAnswers,
    answer_autosave,
    answers_save,
    assessment_review,
    assessment_start,
    assessment_submit,
    may_edit,
)
from clients.models import Outcome
from clients.selectors import engagements_visible_to
from core.htmx import is_htmx
from core.numbers import whole_number

# What the pages show of an assessment's relations, joined into its lookup. A lookup
# joins only what its page shows: each table more costs planning time on every request.
SHOWN = ("engagement__client", "version__questionnaire", "assessor")
REVIEWED = (*SHOWN, "reviewed_by")


def _assessment(request: AuthenticatedHttpRequest, pk: int, *related: str) -> Assessment:
    """An assessment the user may see (404 for anyone else), with ``related`` joined."""
    visible = assessments_visible_to(request.user)
    return get_object_or_404(visible.select_related(*related) if related else visible, pk=pk)


def _may_edit(request: AuthenticatedHttpRequest, assessment: Assessment) -> bool:
    return assessment.is_editable and may_edit(assessment, request.user)


# --- Start --------------------------------------------------------------------------------


@login_required
@require_POST
def assessment_start_view(request: AuthenticatedHttpRequest, engagement_pk: int) -> HttpResponse:
    engagement = get_object_or_404(engagements_visible_to(request.user), pk=engagement_pk)
    version = None
    chosen = request.POST.get("questionnaire")
    if chosen:
        questionnaire = Questionnaire.objects.filter(pk=whole_number(chosen) or 0).first()
        version = questionnaire.current_version() if questionnaire else None
        if version is None:
            messages.error(request, _("Choose a questionnaire that has a published version."))
            return redirect("clients:detail", pk=engagement.client_id)
    try:
        assessment, created = assessment_start(
            engagement=engagement, by=request.user, version=version
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:detail", pk=engagement.client_id)
    if not created:
        messages.info(request, _("You already had an assessment in progress here: resumed."))
    return redirect("assessments:fill", pk=assessment.pk)


# --- Fill ---------------------------------------------------------------------------------


def _sections(
    questions: dict[int, Question], answered: set[int] | frozenset[int]
) -> list[dict[str, Any]]:
    """The version's sections in order, each with its questions, how many are answered
    and which required ones are not (what a submit would refuse)."""
    sections: dict[int, dict[str, Any]] = {}
    for question in questions.values():
        section = sections.get(question.dimension_id)
        if section is None:
            section = sections[question.dimension_id] = {
                "dimension": question.dimension, "questions": [], "done": 0, "missing": [],
            }  # fmt: skip
        section["questions"].append(question)
        if question.pk in answered:
            section["done"] += 1
        elif question.required:
            section["missing"].append(question.pk)
    for section in sections.values():
        section["total"] = len(section["questions"])
    return list(sections.values())


def _progress(sections: list[dict[str, Any]]) -> dict[str, Any]:
    done = sum(s["done"] for s in sections)
    total = sum(s["total"] for s in sections)
    # The first required question still unanswered, in the order of the form.
    first = next(((s, s["missing"][0]) for s in sections if s["missing"]), None)
    return {
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 100,
        "missing": sum(len(s["missing"]) for s in sections),
        "first_missing": {"section": first[0]["dimension"].code, "question": first[1]}
        if first
        else None,
    }


# The fill page after a refused submit (``?missing=1``): every required question without
# an answer is marked, and the sticky bar says how many are left and where the next is.
CHECKING = "missing"


@login_required
def assessment_fill(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk, *SHOWN)
    if not _may_edit(request, assessment):
        return redirect("assessments:result", pk=pk)
    questions = questions_by_id(assessment.version)
    answers = {a.question_id: a for a in Answer.objects.filter(assessment=assessment)}
    sections = _sections(
        questions, {q for q, a in answers.items() if Answer.counts(a.value, a.not_applicable)}
    )
    code = request.GET.get("section") or sections[0]["dimension"].code
    current = next((s for s in sections if s["dimension"].code == code), sections[0])
    position = sections.index(current)
    returned = (
        assessment.transitions.filter(to_status=AssessmentStatus.RETURNED).last()
        if assessment.status == AssessmentStatus.RETURNED
        else None
    )
    return render(
        request,
        "assessments/fill.html",
        {
            "assessment": assessment,
            "sections": sections,
            "section": current,
            "previous_section": sections[position - 1] if position > 0 else None,
            "next_section": sections[position + 1] if position + 1 < len(sections) else None,
            "items": [_item(q, answers.get(q.pk)) for q in current["questions"]],
            "progress": _progress(sections),
            "returned": returned,
            "checking": request.GET.get(CHECKING) == "1",
        },
    )


def _item(
    question: Question,
    answer: Answer | None,
    *,
    typed: dict[str, Any] | None = None,
    error: str = "",
    conflict: bool = False,
    saved: bool = False,
    unsaved: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What one question's partial shows: the stored answer, or what was just typed when
    it could not be saved (so nothing typed is lost)."""
    shown = typed or {
        "value": answer.value if answer else None,
        "not_applicable": answer.not_applicable if answer else False,
        "na_reason": answer.na_reason if answer else "",
        "note": answer.note if answer else "",
    }
    return {
        "question": question,
        "value": shown["value"],
        "not_applicable": shown["not_applicable"],
        "na_reason": shown["na_reason"],
        "note": shown["note"],
        "revision": answer.revision if answer else 0,
        "error": error,
        "conflict": conflict,
        "saved": saved,
        # On a conflict the fields show what is stored; what the user had typed is kept
        # beside them, to copy back, so nothing typed is lost.
        "unsaved": unsaved,
    }


def _parse_value(question: Question, raw: str | None) -> Any:
    """A form value as the engine wants it; unparseable input is passed on as text so the
    service names the problem."""
    if raw is None or raw == "":
        return None
    return question.spec.parse(raw)


def login_required_for_saves(view: Any) -> Any:
    """Like login_required, but an autosave whose session expired gets 401 instead of a
    redirect to the login page: htmx would follow the redirect, see a 200 and call the
    save done. With 401 the page keeps the answer and retries until the user has logged
    in again (in another tab)."""

    @wraps(view)
    def wrapped(request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if is_htmx(request):
                return HttpResponse(status=401)
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def _typed(request: AuthenticatedHttpRequest, question: Question) -> tuple[dict[str, Any], int]:
    """The answer a fill page's form sends, and the revision it was read at (-1: garbled)."""
    typed = {
        "value": _parse_value(question, request.POST.get("value")),
        "not_applicable": request.POST.get("not_applicable") == "on",
        "na_reason": request.POST.get("na_reason", ""),
        "note": request.POST.get("note", ""),
    }
    try:
        revision = int(request.POST.get("revision") or 0)
    except ValueError:
        revision = -1
    return typed, revision


def _saved_partial(
    request: AuthenticatedHttpRequest,
    assessment: Assessment | None,
    questions: dict[int, Question],
    item: dict[str, Any],
    answered: set[int] | frozenset[int],
    status: int = 200,
) -> HttpResponse:
    """The question's status and revision, the progress and the section's count (htmx
    swaps them out of band); after a conflict, the whole question too (``assessment`` is
    needed only then)."""
    question = item["question"]
    sections = _sections(questions, answered)
    section = next(s for s in sections if s["dimension"].pk == question.dimension_id)
    progress = _progress(sections)
    checking = request.POST.get(CHECKING) == "1"
    if item["conflict"]:  # the whole question again, its form with a CSRF token
        assert assessment is not None
        context = {
            "assessment": assessment,
            "item": item,
            "progress": progress,
            "section": section,
            "checking": checking,
        }
        return render(request, "assessments/fill.html#question-oob", context, status=status)
    # Out-of-band fragments only: nothing of the request's context (menu, messages, CSRF)
    # is drawn, so none of it is prepared, and no template either.
    return HttpResponse(fill_fragments.saved(item, progress, section, checking), status=status)


@login_required_for_saves
@require_POST
def answer_save_view(request: AuthenticatedHttpRequest, pk: int, question_pk: int) -> HttpResponse:
    """Save one answer; answers with the question's partial (and the progress, out of band).

    The everyday save — a question this process knows, a valid value, the revision still
    current — is one statement (answer_autosave) after the session's, which brings the
    user. Anything else (a refusal to explain, an unknown question, a cold process) goes
    the long way, through the access-checked lookup and answers_save, which say precisely
    what is wrong."""
    known = published_question(question_pk)
    if known is not None:
        question, questions = known
        typed, revision = _typed(request, question)
        saved = answer_autosave(
            assessment_id=pk,
            question=question,
            item=AnswerInput(question=question.pk, revision=revision or None, **typed),
            by=request.user,
        )
        if saved is not None:
            return _saved_partial(
                request,
                None,  # never a conflict here: the question's form is not redrawn
                questions,
                _item(question, saved.answer, saved=True),
                saved.answered,
            )
    assessment = _assessment(request, pk, "version")
    questions = questions_by_id(assessment.version)
    if question_pk not in questions:
        raise Http404
    question = questions[question_pk]
    typed, revision = _typed(request, question)
    status = 200
    try:
        answers_save(
            assessment=assessment,
            by=request.user,
            answers=[AnswerInput(question=question.pk, revision=revision or None, **typed)],
        )
        item = _item(
            question, Answer.objects.get(assessment=assessment, question=question), saved=True
        )
    except AnswersRefused as refused:
        problem = refused.problems[0]
        stored = Answer.objects.filter(assessment=assessment, question=question).first()
        if problem.code == "stale":
            # Show what is stored now, and say so; the user answers again on top of it.
            item = _item(question, stored, error=problem.message, conflict=True, unsaved=typed)
            status = 409
        else:
            item = _item(question, stored, typed=typed, error=problem.message)
            status = 422
    except AssessmentNotEditable as error:
        item = _item(question, None, typed=typed, error=" ".join(error.messages))
        status = 422
    except PermissionDenied:
        raise
    answered = {
        question_id
        for question_id, value, not_applicable in Answer.objects.filter(
            assessment=assessment
        ).values_list("question_id", "value", "not_applicable")
        if Answer.counts(value, not_applicable)
    }
    return _saved_partial(request, assessment, questions, item, answered, status)


@login_required
@require_POST
def assessment_submit_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk, "version", "engagement")
    already = not assessment.is_editable
    try:
        assessment_submit(assessment=assessment, by=request.user)
    except MissingAnswers as missing:
        # The fill page says it (in its sticky bar, so it stays in view) and marks them.
        first = missing.questions[0]
        url = reverse("assessments:fill", args=[pk])
        return redirect(f"{url}?section={first.dimension.code}&{CHECKING}=1#question-{first.pk}")
    except AssessmentNotEditable:
        messages.info(request, _("This assessment was already submitted."))
    else:
        if already:  # a second click, or a retry after a lost answer
            messages.info(request, _("This assessment was already submitted."))
        elif assessment.rater_sheet:
            messages.success(
                request,
                _("Sheet handed in: here is how you scored it. The round's owner reconciles it."),
            )
        else:
            messages.success(request, _("Assessment submitted. Here is the result."))
    return redirect("assessments:result", pk=pk)


# --- Result and review --------------------------------------------------------------------


def _answer_shown(question: Question | None, contribution: dict[str, Any]) -> str:
    """An answer as the assessor saw it: a level's or option's label, a typed text."""
    value = contribution["value"]
    if value is None or question is None:
        return ""
    return question_types.get(question.type).shown(question, value)


def _dimension_rows(
    assessment: Assessment, previous: Assessment | None, questions: dict[int, Question]
) -> list[dict[str, Any]]:
    by_code = {q.code: q for q in questions.values()}
    current = (assessment.result or {}).get("dimensions", [])
    changes = compare((previous.result or {}).get("dimensions", []), current) if previous else {}
    rows = []
    for dimension in current:
        score = dimension["score"]
        # What moved the score since last time: each question's change in points.
        change = changes.get(dimension["code"])
        old = change.before if change else None
        question_rows = [
            {
                **c,
                "question_obj": by_code.get(c["question"]),
                "shown": _answer_shown(by_code.get(c["question"]), c),
                # The change of its points since last time, when it shows at one decimal.
                "moved": moved
                if change and abs(moved := change.moved[c["question"]]) > MOVED_POINTS
                else None,
            }
            for c in dimension["contributions"]
        ]
        delta = change.delta if change else None
        rows.append(
            {
                **dimension,
                "question_rows": question_rows,
                "questions_moved": any(c["moved"] is not None for c in question_rows),
                "previous": old,
                "delta": delta,
                "moved": delta is not None and abs(delta) >= MOVED_SCORE,
                # Up is better for maturity, down is better for defensiveness.
                "better": (
                    ((score - old) > 0) == (dimension["kind"] == "maturity")
                    if score is not None and old is not None
                    else None
                ),
            }
        )
    return rows


# A dimension "moved" when its rounded score changed; a question when its points changed
# by at least a tenth (the precision both are shown with).
MOVED_SCORE = 0.5
MOVED_POINTS = 0.05


def _dimension_groups(dimensions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Maturity and defensiveness apart: one is better high, the other low, so they are
    never drawn on one shape."""
    return [
        {"kind": kind, "title": title, "hint": hint, "rows": rows}
        for kind, title, hint in (
            ("maturity", _("Maturity"), _("higher is better")),
            ("defensiveness", _("Defensiveness"), _("lower is better")),
        )
        if (rows := [d for d in dimensions if d["kind"] == kind])
    ]


def _evidence_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Past experiences as stored in the result, with the outcome's label and the end
    date as dates (the snapshot keeps codes and ISO text)."""
    outcomes = dict(Outcome.choices)
    return [
        {
            **item,
            "outcome_label": outcomes.get(item.get("outcome"), item.get("outcome")),
            "ended": parse_date(item["ended_on"]) if item.get("ended_on") else None,
        }
        for item in result.get("evidence", [])
    ]


@login_required
def assessment_result(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk, *REVIEWED)
    if assessment.result is None:
        if _may_edit(request, assessment):
            return redirect("assessments:fill", pk=pk)
        return render(request, "assessments/not_submitted.html", {"assessment": assessment})
    previous = previous_assessment(assessment)
    result = assessment.result
    dimensions = _dimension_rows(assessment, previous, questions_by_id(assessment.version))
    can_review = assessment.status == AssessmentStatus.SUBMITTED and user_has_role(
        request.user, DIRECTORS
    )
    queue = None
    if can_review:
        queue = Queue.from_string(request.user, request.GET.get("queue", ""))
        place, length, following = queue.position(assessment)
    return render(
        request,
        "assessments/result.html",
        {
            "assessment": assessment,
            "result": result,
            "level_name": LEVELS.get(result.get("maturity_level") or 0, ""),
            "quadrant_name": QUADRANTS.get(result.get("quadrant") or "", ""),
            "quadrant_hint": QUADRANT_HINTS.get(result.get("quadrant") or "", ""),
            "dimensions": dimensions,
            "groups": _dimension_groups(dimensions),
            "moved": any(d["moved"] for d in dimensions),
            "evidence": _evidence_rows(result),
            "weakest": [
                d
                for code in result.get("weakest", [])
                for d in result.get("dimensions", [])
                if d["code"] == code
            ],
            "previous": previous,
            "transitions": assessment.transitions.select_related("by"),
            "can_review": can_review,
            "queue": {
                "query": queue.query,
                "url": queue.url,
                "place": place,
                "length": length,
                "next": _in_queue(reverse("assessments:result", args=[following]), queue)
                if following
                else None,
            }
            if queue
            else None,
            "can_edit": _may_edit(request, assessment),
            "extra_sections": sections_for(assessment, request.user),
        },
    )


@role_required(*DIRECTORS)
@require_POST
def assessment_review_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk, *REVIEWED)
    approve = request.POST.get("decision") == "approve"
    queue = Queue.from_string(request.user, request.POST.get("queue", ""))
    # Where this one stood before the decision takes it out of the queue.
    _place, _length, following = queue.position(assessment)
    try:
        assessment_review(
            assessment=assessment,
            by=request.user,
            approve=approve,
            comment=request.POST.get("comment", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_in_queue(reverse("assessments:result", args=[pk]), queue))
    done = _("Assessment approved.") if approve else _("Assessment returned for correction.")
    if following is None:
        messages.success(request, " ".join((done, _("Nothing else is waiting in this queue."))))
        return redirect(queue.url)
    messages.success(request, " ".join((done, _("Here is the next one in the queue."))))
    return redirect(_in_queue(reverse("assessments:result", args=[following]), queue))


def _in_queue(url: str, queue: Queue) -> str:
    """A result page's address that remembers the queue it was opened from."""
    return f"{url}?{urlencode({'queue': queue.query})}"


@role_required(*DIRECTORS)
def review_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Submitted assessments waiting for a director: counted, filtered, sorted, paged."""
    queue = Queue(request.user, request.GET)
    page = Paginator(queue.items, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    oldest = queue.items.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    context = {
        "filter": queue.filter,
        "page": page,
        "query": queue.query,
        "filtered": queue.filtered,
        "oldest": oldest,
        "now": timezone.now(),
    }
    template = (
        "assessments/review_queue.html#results"
        if is_htmx(request)
        else "assessments/review_queue.html"
    )
    return render(request, template, context)
