"""How far apart two views of a client are: the client's own people against the supplier
(the perception gap), and the supplier's raters against each other (agreement). Pure
Python, like the scoring engine it builds on; the formulas are in docs/client-voice.md.

Both compare answers on one scale: an answer's *level*, 1 + 4·t, where t ∈ [0, 1] is its
trait value (assessments.scoring.trait_of: a scale answer's level is itself, a choice's
score, a yes/no, a bounded number each land on the same 1–5 line). One level is 25 of a
dimension's 100 points.

* **Perception gap** of a dimension: the mean of the client respondents' dimension scores
  minus the supplier's score of the same dimension, both computed by the scoring engine
  over the same questions (those the client is asked), so the comparison is like for like.
  Positive: the client rates itself higher than the supplier does. With the mean, the
  respondents' spread (population standard deviation) and their count; no respondent, or
  no score on one side, gives no gap rather than a zero.
* **Agreement** of raters: the share of questions, rated by at least two of them, on which
  no two ratings are more than one level apart; and the mean over pairs of raters of the
  quadratic-weighted kappa of their levels on the questions both rated —
  κ = 2·s_ab / (s_a² + s_b² + (ā − b̄)²), which is Cohen's quadratic-weighted kappa for
  levels 1–5 (and Lin's concordance for any level), in [−1, 1]; undefined (None) when both
  raters gave one and the same level everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import combinations
from math import fsum, sqrt
from typing import Any

from assessments import question_types
from assessments.question_types import InvalidAnswer
from assessments.scoring import NOT_APPLICABLE, QuestionSpec, Structure, score, trait_of

LEVEL_POINTS = 25.0  # one level of five, in a dimension's 0–100 points
# Gaps are rounded as the engine rounds scores: a gap of one level computed as
# 0.9999999999999997 levels must still be one level (a rule's threshold, "wide").
PRECISION = 9
# Two ratings "within one level": a hair of tolerance for levels computed from traits.
_WITHIN = 1.0 + 1e-9


def level_of(question: QuestionSpec, value: Any) -> float | None:
    """An answer's level on its own question's scale, 1 + 4·t (before any reverse
    scoring: two raters of one question are compared as they answered it); None when it
    is not scored (free text, not applicable, missing)."""
    if value is None or value is NOT_APPLICABLE or not question.scored:
        return None
    return 1.0 + 4.0 * trait_of(question, value)


# --- The perception gap -------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionGap:
    """One dimension seen by the client's respondents and by the supplier, in points."""

    code: str
    client_mean: float | None  # None: no respondent scored it
    client_spread: float | None  # population standard deviation; 0 with one respondent
    respondents: int  # those who scored it
    supplier: float | None
    gap: float | None  # client_mean − supplier; None unless both exist

    @property
    def gap_levels(self) -> float | None:
        return None if self.gap is None else self.gap / LEVEL_POINTS


def gap_of(
    code: str, client_scores: Sequence[float | None], supplier: float | None
) -> DimensionGap:
    """The gap of one dimension from each respondent's score of it (None: the respondent
    left it unscored, and is not counted) and the supplier's."""
    scores = [s for s in client_scores if s is not None]
    if not scores:
        return DimensionGap(code, None, None, 0, supplier, None)
    mean = round(fsum(scores) / len(scores), PRECISION)
    spread = round(sqrt(fsum((s - mean) ** 2 for s in scores) / len(scores)), PRECISION)
    gap = None if supplier is None else round(mean - supplier, PRECISION)
    return DimensionGap(code, mean, spread, len(scores), supplier, gap)


def scorable(question: QuestionSpec | None, value: Any) -> bool:
    """Whether ``question`` (of the round's version) can score ``value``. Our answers were
    given on our assessment's version: a later version may have changed the question (no
    "not applicable" any more, another scale), and an answer it cannot take counts as
    unanswered rather than stopping every gap it is part of."""
    if question is None or value is None:
        return False
    if value is NOT_APPLICABLE:
        return question.allow_na
    if not question_types.get(question.type).scored:
        return True  # a text: never scored, never refused
    try:
        trait_of(question, value)
    except InvalidAnswer:
        return False
    return True


def asked_of_the_client(structure: Structure, codes: set[str]) -> Structure:
    """The structure with only the questions whose codes are in ``codes`` (those the
    client answers), dimensions left without one dropped."""
    dimensions = tuple(
        replace(d, questions=kept)
        for d in structure.dimensions
        if (kept := tuple(q for q in d.questions if q.code in codes))
    )
    return Structure(dimensions=dimensions)


def perception_gaps(
    structure: Structure,
    client_codes: set[str],
    respondents: Sequence[Mapping[str, Any]],
    supplier: Mapping[str, Any],
) -> list[DimensionGap]:
    """Each dimension the client is asked about, in the structure's order: the
    respondents' answers (by question code) against the supplier's, both scored by the
    engine over the questions in ``client_codes``."""
    asked = asked_of_the_client(structure, client_codes)

    specs = {q.code: q for d in asked.dimensions for q in d.questions}

    def dimension_scores(answers: Mapping[str, Any]) -> dict[str, float | None]:
        kept = {
            code: value
            for code, value in answers.items()
            if code in client_codes and scorable(specs.get(code), value)
        }
        result = score(asked, kept, [], today=date.today())  # no evidence: no date used
        return {d.code: d.score for d in result.dimensions}

    theirs = [dimension_scores(answers) for answers in respondents]
    ours = dimension_scores(supplier)
    return [
        gap_of(d.code, [scores[d.code] for scores in theirs], ours[d.code])
        for d in asked.dimensions
    ]


# --- Agreement between raters -------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    within_one: float | None  # share of questions with every rating within one level
    kappa: float | None  # mean pairwise quadratic-weighted kappa
    questions: int  # questions rated by two raters or more
    pairs: int  # pairs of raters whose kappa is defined


def weighted_kappa(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Quadratic-weighted kappa of two raters' levels on the same questions (paired by
    position): 2·s_ab / (s_a² + s_b² + (ā − b̄)²). None without a pair, or when both gave
    one and the same level throughout (nothing to agree or disagree about)."""
    if len(a) != len(b):
        raise ValueError("two raters' levels must be paired")
    n = len(a)
    if n == 0:
        return None
    mean_a, mean_b = fsum(a) / n, fsum(b) / n
    var_a = fsum((x - mean_a) ** 2 for x in a) / n
    var_b = fsum((y - mean_b) ** 2 for y in b) / n
    cov = fsum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)) / n
    denominator = var_a + var_b + (mean_a - mean_b) ** 2
    if denominator <= 1e-12:
        return None
    return max(-1.0, min(1.0, 2 * cov / denominator))


def _rated_twice(levels: Mapping[Any, Mapping[Any, float]]) -> dict[Any, list[float]]:
    """Each question rated by two raters or more, with its levels, in the order first
    met."""
    by_question: dict[Any, list[float]] = {}
    for ratings in levels.values():
        for question, level in ratings.items():
            by_question.setdefault(question, []).append(level)
    return {q: ratings for q, ratings in by_question.items() if len(ratings) >= 2}


def agreement(levels: Mapping[Any, Mapping[Any, float]]) -> Agreement:
    """The agreement of raters from each one's levels by question (questions a rater left
    unscored are simply absent)."""
    shared = list(_rated_twice(levels).values())
    within = sum(1 for r in shared if max(r) - min(r) <= _WITHIN) / len(shared) if shared else None
    kappas = []
    for first, second in combinations(levels.values(), 2):
        both = [q for q in first if q in second]
        kappa = weighted_kappa([first[q] for q in both], [second[q] for q in both])
        if kappa is not None:
            kappas.append(kappa)
    return Agreement(
        within_one=within,
        kappa=fsum(kappas) / len(kappas) if kappas else None,
        questions=len(shared),
        pairs=len(kappas),
    )


def far_apart(levels: Mapping[Any, Mapping[Any, float]]) -> list[Any]:
    """The questions on which two raters are more than one level apart — what a
    reconciliation goes through — in the order first met."""
    return [q for q, r in _rated_twice(levels).items() if max(r) - min(r) > _WITHIN]
