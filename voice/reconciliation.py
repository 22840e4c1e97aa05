"""Several internal raters in a round, and their reconciliation (docs/client-voice.md §3).

Each rater fills a sheet of their own — an assessment only they see
(``assessments.services.sheet_start``) — and hands it in. The reconciliation reads the
handed-in sheets side by side: the questions where two raters are more than one level
apart must be decided by the round's owner (the agreed answer and why); every other
question takes the raters' median answer. Reconciling writes the agreed answers as one
submitted assessment (``assessment_import``): that is what is scored, reviewed, planned on
and trended, and the round's supplier view from then on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.access import DIRECTORS, user_has_role
from accounts.models import User
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Question,
)
from assessments.perception import Agreement, agreement, far_apart, level_of
from assessments.scoring import QuestionSpec
from assessments.selectors import questions_by_id, structure_for_version
from assessments.services import (
    AnswerInput,
    AnswersRefused,
    answer_problem,
    assessment_import,
    sheet_start,
)
from clients.selectors import clients_visible_to, people_who_see
from core.links import site_url
from voice.models import Decision, Rater, Round
from voice.services import page_path
from voice.signals import raters_added, raters_removed, round_changed
from webhooks.services import event_record

MIN_SHEETS = 2  # a reconciliation compares two sheets or more


def may_reconcile(round: Round, user: User) -> bool:
    """The round's owner (who opened it) and directors decide and reconcile."""
    return round.opened_by_id == user.pk or user_has_role(user, DIRECTORS)


def may_see_sheets(round: Round, user: User) -> bool:
    """Raters fill independently: one sees the others' sheets (the reconciliation) only
    once their own is handed in; people who do not rate the round see them at once."""
    mine = Rater.objects.filter(round=round, user=user).select_related("sheet").first()
    return mine is None or mine.sheet.status == AssessmentStatus.HANDED_IN


def _check_changeable(round: Round) -> None:
    if round.reconciled_id is not None:
        raise ValidationError(_("This round is already reconciled."), code="reconciled")
    if not round.is_open:
        raise ValidationError(_("This round is closed."), code="closed")


# --- Raters ------------------------------------------------------------------------------


def raters_of(round: Round) -> list[Rater]:
    return list(
        Rater.objects.filter(round=round).select_related("user", "sheet").order_by("added_at", "id")
    )


def rater_candidates(round: Round) -> list[User]:
    """Active people who may see the client and do not rate the round yet."""
    already = Rater.objects.filter(round=round).values("user_id")
    return list(
        people_who_see(round.engagement.client)
        .exclude(pk__in=already)
        .order_by("first_name", "last_name", "username")
    )


def rater_add(*, round: Round, user: User, by: User) -> Rater:
    """Ask ``user`` to rate the engagement in this round, on a sheet of their own (they
    are told through the notification machinery)."""
    _check_changeable(round)
    if not may_reconcile(round, by):
        raise PermissionDenied(_("Only the round's owner or a director chooses its raters."))
    name = user.get_full_name() or user.username
    if not user.is_active or not (
        clients_visible_to(user).filter(pk=round.engagement.client_id).exists()
    ):
        # No name: through the API any user's id can be tried.
        raise ValidationError({"user": _("This person does not work on this client.")})
    with transaction.atomic():
        if Rater.objects.filter(round=round, user=user).exists():
            raise ValidationError(
                {"user": _("%(name)s already rates this round.") % {"name": name}}
            )
        sheet = sheet_start(engagement=round.engagement, rater=user, version=round.version)
        try:
            with transaction.atomic():
                rater = Rater.objects.create(round=round, user=user, sheet=sheet, added_by=by)
        except IntegrityError:  # added twice at once
            raise ValidationError(
                {"user": _("%(name)s already rates this round.") % {"name": name}}
            ) from None
        raters_added.send(Rater, raters=[rater])
    return rater


def rater_remove(*, rater: Rater, by: User) -> None:
    """Take a rater off the round with their sheet — not once it is handed in."""
    _check_changeable(rater.round)
    if not may_reconcile(rater.round, by):
        raise PermissionDenied(_("Only the round's owner or a director chooses its raters."))
    with transaction.atomic():
        sheet = Assessment.objects.select_for_update().get(pk=rater.sheet_id)
        if sheet.status == AssessmentStatus.HANDED_IN:  # read again: it may be just now
            raise ValidationError(_("This sheet is handed in: it stays in the round."))
        raters_removed.send(Rater, raters=[rater])
        rater.delete()
        sheet.delete()


# --- Reading the sheets side by side -------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    rater: Rater
    value: Any
    not_applicable: bool
    note: str
    level: float | None  # None: not scored (a text, not applicable, no answer)

    @property
    def answered(self) -> bool:
        return self.not_applicable or self.value not in (None, "")


@dataclass
class Line:
    """One question with each handed-in sheet's answer, and what is agreed."""

    question: Question
    ratings: list[Rating]
    far_apart: bool
    proposal: tuple[Any, bool] | None  # (value, not applicable); None: nobody answered
    decision: Decision | None = None

    @property
    def agreed(self) -> tuple[Any, bool] | None:
        if self.decision is not None:
            return self.decision.value, self.decision.not_applicable
        return self.proposal

    @property
    def undecided(self) -> bool:
        return self.far_apart and self.decision is None


@dataclass
class Reconciliation:
    round: Round
    raters: list[Rater]
    handed_in: list[Rater]
    lines: list[Line]
    agreement: Agreement
    by_dimension: list[tuple[Any, Agreement]] = field(default_factory=list)

    @property
    def far(self) -> list[Line]:
        return [line for line in self.lines if line.far_apart]

    @property
    def undecided(self) -> list[Line]:
        return [line for line in self.lines if line.undecided]

    @property
    def waiting(self) -> list[Rater]:
        return [r for r in self.raters if r.sheet.status != AssessmentStatus.HANDED_IN]

    @property
    def ready(self) -> bool:
        return (
            self.round.reconciled_id is None
            and len(self.handed_in) >= MIN_SHEETS
            and not self.undecided
        )


def _median_answer(ratings: Sequence[Rating]) -> tuple[Any, bool] | None:
    """What a question takes when its raters are within one level: the median answer
    (the lower of the two middle ones), not applicable when most said so, and for a
    question that is not scored (a text) the first rater's."""
    given = [r for r in ratings if r.answered]
    if not given:
        return None
    if 2 * sum(1 for r in given if r.not_applicable) > len(given):
        return None, True
    scored = sorted((r for r in given if r.level is not None), key=lambda r: r.level or 0.0)
    if scored:
        return scored[(len(scored) - 1) // 2].value, False
    texts = [r for r in given if not r.not_applicable]
    return (texts[0].value, False) if texts else (None, True)


def _specs(round: Round) -> dict[str, QuestionSpec]:
    structure = structure_for_version(round.version)
    return {q.code: q for d in structure.dimensions for q in d.questions}


def reconciliation_of(round: Round) -> Reconciliation:
    """The round's handed-in sheets side by side, with the agreement of their raters
    (for the round and per dimension) and what each question takes."""
    raters = raters_of(round)
    handed_in = [r for r in raters if r.sheet.status == AssessmentStatus.HANDED_IN]
    questions = questions_by_id(round.version)
    specs = _specs(round)
    stored: dict[tuple[int, int], Answer] = {
        (a.assessment_id, a.question_id): a
        for a in Answer.objects.filter(assessment__in=[r.sheet_id for r in handed_in])
    }
    decisions = {d.question_id: d for d in Decision.objects.filter(round=round)}
    levels: dict[int, dict[str, float]] = {r.pk: {} for r in handed_in}
    by_question: dict[int, list[Rating]] = {}
    for question in questions.values():
        ratings = []
        for rater in handed_in:
            answer = stored.get((rater.sheet_id, question.pk))
            value = answer.value if answer else None
            na = bool(answer and answer.not_applicable)
            level = None if na else level_of(specs[question.code], value)
            if level is not None:
                levels[rater.pk][question.code] = level
            ratings.append(Rating(rater, value, na, answer.note if answer else "", level))
        by_question[question.pk] = ratings
    apart = set(far_apart(levels))
    lines = [
        Line(
            question=question,
            ratings=by_question[question.pk],
            far_apart=question.code in apart,
            proposal=_median_answer(by_question[question.pk]),
            decision=decisions.get(question.pk),
        )
        for question in questions.values()
    ]
    dimensions: dict[int, Any] = {}
    for question in questions.values():
        dimensions.setdefault(question.dimension_id, question.dimension)
    by_dimension = []
    for dimension in dimensions.values():
        codes = {q.code for q in questions.values() if q.dimension_id == dimension.pk}
        within = {r: {c: v for c, v in rated.items() if c in codes} for r, rated in levels.items()}
        by_dimension.append((dimension, agreement(within)))
    return Reconciliation(
        round=round,
        raters=raters,
        handed_in=handed_in,
        lines=lines,
        agreement=agreement(levels),
        by_dimension=by_dimension,
    )


# --- Deciding and reconciling --------------------------------------------------------------


def decision_record(
    *,
    round: Round,
    question: Question,
    value: Any,
    not_applicable: bool,
    reason: str,
    by: User,
) -> Decision:
    """Record the agreed answer of a question, and why (the owner or a director)."""
    _check_changeable(round)
    if not may_reconcile(round, by):
        raise PermissionDenied(_("Only the round's owner or a director reconciles it."))
    if question.pk not in questions_by_id(round.version):
        raise ValidationError({"question": _("Not a question of this round.")})
    problems = {}
    reason = (reason or "").strip()
    if not reason:
        problems["reason"] = _("Say why this is the agreed answer.")
    elif len(reason) > 2000:
        problems["reason"] = _("Keep the reason under 2,000 characters.")
    if not not_applicable and value in (None, ""):
        problems["value"] = _("Choose the agreed answer, or mark it not applicable.")
    else:
        # Checked as the assessment's answers are (the reason is the note, or the
        # reason "not applicable" is given): what is agreed here is what reconcile writes.
        item = AnswerInput(
            question=question.pk,
            value=None if not_applicable else value,
            not_applicable=not_applicable,
            na_reason=(reason or "-")[:500] if not_applicable else None,
            note=reason or None,
        )
        if (found := answer_problem(question, item)) is not None:
            field, message = found
            problems[{"na_reason": "reason", "note": "reason"}.get(field, field)] = message
    if problems:
        raise ValidationError(problems)
    decision, _created = Decision.objects.update_or_create(
        round=round,
        question=question,
        defaults={
            "value": None if not_applicable else value,
            "not_applicable": not_applicable,
            "reason": reason,
            "decided_by": by,
            "decided_at": timezone.now(),
        },
    )
    return decision


def _note(line: Line) -> str:
    if line.decision is not None:
        return _("Agreed in reconciliation: %(reason)s") % {"reason": line.decision.reason}
    notes = [
        f"{r.rater.user.get_full_name() or r.rater.user.username}: {r.note}"
        for r in line.ratings
        if r.note
    ]
    return "\n".join(notes)[:5000]


@transaction.atomic
def round_reconcile(*, round: Round, by: User) -> Assessment:
    """Write the agreed answers as the round's reconciled assessment (submitted, so scored,
    planned on and trended like any other). Refused until two sheets or more are handed
    in and every question the raters were far apart on is decided."""
    round = (
        Round.objects.select_for_update().select_related("engagement", "version").get(pk=round.pk)
    )
    if not may_reconcile(round, by):
        raise PermissionDenied(_("Only the round's owner or a director reconciles it."))
    if round.reconciled_id is not None:
        raise ValidationError(_("This round is already reconciled."), code="reconciled")
    found = reconciliation_of(round)
    if len(found.handed_in) < MIN_SHEETS:
        raise ValidationError(
            _("At least two raters must hand in their sheets first."), code="too_few"
        )
    if found.undecided:
        count = len(found.undecided)
        raise ValidationError(
            ngettext(
                "%(count)s question the raters are far apart on still needs an agreed answer.",
                "%(count)s questions the raters are far apart on still need an agreed answer.",
                count,
            )
            % {"count": count},
            code="undecided",
        )
    answers = []
    for line in found.lines:
        agreed = line.agreed
        if agreed is None:
            continue
        value, not_applicable = agreed
        note = _note(line)
        answers.append(
            AnswerInput(
                question=line.question.pk,
                value=None if not_applicable else value,
                not_applicable=not_applicable,
                na_reason=note[:500] if not_applicable else None,
                note=None if not_applicable else note,
            )
        )
    try:
        assessment = assessment_import(
            engagement=round.engagement, by=by, answers=answers, version=round.version
        )
    except AnswersRefused as refused:  # an agreed answer the version cannot take
        raise ValidationError([problem.message for problem in refused.problems]) from None
    round.reconciled = assessment
    round.save(update_fields=["reconciled"])
    round_changed.send(Round, round=round)
    event_record("round.reconciled", round_data(round, found.agreement, len(found.handed_in)))
    return assessment


def round_data(round: Round, figures: Agreement, raters: int) -> dict[str, Any]:
    """The ``round.reconciled`` event's data (webhooks.events)."""
    engagement = round.engagement
    return {
        "round": round.pk,
        "engagement": engagement.pk,
        "client": engagement.client_id,
        "assessment": round.reconciled_id,
        "raters": raters,
        "within_one": figures.within_one,
        "kappa": figures.kappa,
        "reconciled_at": timezone.now(),
        "url": site_url(page_path(engagement)),
    }
