"""The scoring engine: answers + a version's structure + past-experience evidence in, a
frozen result out. Pure Python — no ORM — so it is tested without a database, with
property-based tests for its invariants, and fast enough to rescore a portfolio. How each
question type's answer becomes a trait is the type's own (assessments/question_types.py).

The formula, its thresholds and a worked example are in docs/scoring.md; in short:

* Each scored answer becomes a *trait value* t in [0, 1]: how much of what its dimension
  measures the answer shows (maturity for maturity dimensions, defensiveness for
  defensiveness dimensions). Scale 1–5 → (v − 1) / 4; choice → option score / 100;
  yes/no → 1 / 0; number → (clamp(v) − min) / (max − min). A reverse-scored question
  uses 1 − t. Free text is not scored.
* Dimension score = 100 · Σ wᵢ·tᵢ / Σ wᵢ over the answered questions. Missing and
  not-applicable answers are left out of both sums (they neither help nor hurt); a
  dimension with no scored answer has no score.
* Maturity score = dimension-weighted mean of the maturity dimensions; level by the
  thresholds 20/40/60/80 (1 Initial … 5 Strategic partner).
* Questionnaire defensiveness Dq = dimension-weighted mean of the defensiveness dimensions.
  Each past experience adds evidence eᵢ = severity/5 · outcome factor · ½^(years since it
  ended / half-life); they combine as E = 1 − Π(1 − eᵢ), and the index is
  D = Dq + (100 − Dq) · blend · E — evidence can only raise it, never above 100.
* Quadrant: maturity ≥ 50 is high, defensiveness ≥ 50 is high.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from math import prod
from typing import Any, NamedTuple

from assessments import question_types
from assessments.question_types import InvalidAnswer

LEVEL_THRESHOLDS = (20.0, 40.0, 60.0, 80.0)
LEVEL_NAMES = {1: "initial", 2: "developing", 3: "defined", 4: "managed", 5: "strategic_partner"}
HIGH = 50.0


class Quadrant(StrEnum):
    GUARDED_NOVICE = "guarded_novice"  # low maturity, high defensiveness
    OPEN_NOVICE = "open_novice"  # low maturity, low defensiveness
    DEMANDING_EXPERT = "demanding_expert"  # high maturity, high defensiveness
    STRATEGIC_PARTNER = "strategic_partner"  # high maturity, low defensiveness


class Status(StrEnum):
    ANSWERED = "answered"
    NOT_APPLICABLE = "not_applicable"
    MISSING = "missing"
    NOT_SCORED = "not_scored"  # a type that is not scored (free text)


# --- Input ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    code: str
    type: str  # a code of question_types.TYPES
    weight: float = 1.0
    reverse: bool = False
    required: bool = True
    allow_na: bool = False
    options: Mapping[str, float] = field(default_factory=dict)  # choice: code → 0…100
    min: float | None = None  # number
    max: float | None = None
    # The type's, looked up once (KeyError for an unknown type).
    scored: bool = field(init=False, repr=False, compare=False, default=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scored", question_types.get(self.type).scored)


@dataclass(frozen=True, slots=True)
class DimensionSpec:
    code: str
    kind: str  # maturity | defensiveness
    questions: tuple[QuestionSpec, ...]
    weight: float = 1.0
    # Precomputed once per structure for the hot path (see _table).
    plan: tuple[tuple[str, float, type | None, dict[Any, float] | None, QuestionSpec], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        plan = tuple((q.code, q.weight, *_table(q), q) for q in self.questions)
        object.__setattr__(self, "plan", plan)


@dataclass(frozen=True, slots=True)
class Structure:
    """What a questionnaire version asks, as the engine needs it."""

    dimensions: tuple[DimensionSpec, ...]


class _NotApplicable:
    """The answer "not applicable" (its reason is kept by the caller, not the engine)."""

    _instance: _NotApplicable | None = None

    def __new__(cls) -> _NotApplicable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_APPLICABLE"


NOT_APPLICABLE = _NotApplicable()

# Answers map a question code to its value — 1–5 (scale), an option code (choice), a bool
# (yes/no), a number, a string (text) — or to NOT_APPLICABLE. A missing key or None is a
# question not answered yet.
Answers = Mapping[str, Any]


class Outcome(StrEnum):
    SUCCESS = "success"
    MIXED = "mixed"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class Evidence:
    """A past outsourcing experience of the client."""

    key: str
    severity: int  # 1–5
    outcome: str  # success | mixed | failure
    ended_on: date | None = None  # None: still going on, or unknown — no decay


@dataclass(frozen=True, slots=True)
class Policy:
    """The tunable constants of the formula (docs/scoring.md says why these values)."""

    half_life_years: float = 2.0
    blend: float = 0.6
    outcome_factor: Mapping[str, float] = field(
        default_factory=lambda: {"success": 0.0, "mixed": 0.5, "failure": 1.0}
    )


DEFAULT_POLICY = Policy()


# --- Output -----------------------------------------------------------------------------
# Results are NamedTuples: immutable like frozen dataclasses, but several times cheaper to
# build, which matters when a portfolio's worth of answer sets is rescored.


class Contribution(NamedTuple):
    """One question's part in its dimension score: ``points`` add up to the score."""

    question: str
    status: Status
    value: Any
    trait: float | None  # 0…1 after reverse scoring; None when not scored
    weight: float
    points: float


class DimensionScore(NamedTuple):
    code: str
    kind: str
    weight: float
    score: float | None
    answered: int
    not_applicable: int
    missing: int
    total_weight: float
    # What the explanation is rebuilt from, on demand (see ``contributions``): the hot path
    # only sums, so scoring stays cheap when nobody reads the explanation.
    spec: DimensionSpec
    answers: Answers

    @property
    def health(self) -> float | None:
        """Higher is better whatever the kind: maturity as is, defensiveness inverted."""
        if self.score is None:
            return None
        return self.score if self.kind == "maturity" else 100.0 - self.score

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        """The explanation: each question's status, trait and points in this score."""
        total = self.total_weight
        explained = []
        for code, weight, _, _, question in self.spec.plan:
            value = self.answers.get(code)
            trait: float | None = None
            if not question.scored:
                status = Status.NOT_SCORED
            elif value is None:
                status = Status.MISSING
            elif value is NOT_APPLICABLE:
                status, value = Status.NOT_APPLICABLE, None
            else:
                trait = trait_of(question, value)
                if question.reverse:
                    trait = 1.0 - trait
                status = Status.ANSWERED
            points = 100.0 * weight * trait / total if trait is not None and total else 0.0
            explained.append(Contribution(code, status, value, trait, weight, points))
        return tuple(explained)


class EvidenceContribution(NamedTuple):
    key: str
    strength: float  # eᵢ, 0…1
    decay: float  # the recency factor inside eᵢ
    points: float  # index points this item adds; all items add up to the evidence uplift


class Result(NamedTuple):
    dimensions: tuple[DimensionScore, ...]
    maturity_score: float | None
    maturity_level: int | None
    questionnaire_defensiveness: float | None
    evidence_strength: float  # E, 0…1
    defensiveness_index: float | None
    quadrant: Quadrant | None
    completeness: float
    weakest: tuple[str, ...]
    evidence: tuple[EvidenceContribution, ...]

    def dimension(self, code: str) -> DimensionScore:
        for dimension in self.dimensions:
            if dimension.code == code:
                return dimension
        raise KeyError(code)


# --- The engine -------------------------------------------------------------------------


def trait_of(question: QuestionSpec, value: Any) -> float:
    """The answer's trait value in [0, 1] before reverse scoring; InvalidAnswer if the
    question cannot take it."""
    return question_types.get(question.type).trait(question, value)


# Scores are compared with thresholds after rounding away float noise: 60 reached through
# weights 0.7 and 3 is 59.99999999999999 in binary floating point, and must still be 60.
_PRECISION = 9


def level_for(score: float) -> int:
    score = round(score, _PRECISION)
    return 1 + sum(score >= threshold for threshold in LEVEL_THRESHOLDS)


def quadrant_for(maturity: float | None, defensiveness: float | None) -> Quadrant | None:
    if maturity is None or defensiveness is None:
        return None
    maturity, defensiveness = round(maturity, _PRECISION), round(defensiveness, _PRECISION)
    if maturity >= HIGH:
        return Quadrant.DEMANDING_EXPERT if defensiveness >= HIGH else Quadrant.STRATEGIC_PARTNER
    return Quadrant.GUARDED_NOVICE if defensiveness >= HIGH else Quadrant.OPEN_NOVICE


def _table(question: QuestionSpec) -> tuple[type | None, dict[Any, float] | None]:
    """(expected type, value → trait after reverse scoring) for the answer types that are a
    small closed set, so the hot path looks answers up instead of computing them. The type
    is checked apart because True == 1 in Python: a yes/no answer must not pass for a
    scale answer of 1."""
    closed = question_types.get(question.type).table(question)
    if closed is None:
        return None, None  # numbers are computed, text is not scored
    expected, values = closed
    if question.reverse:
        values = {key: 1.0 - trait for key, trait in values.items()}
    return expected, values


_make = tuple.__new__


def _score_dimension(dimension: DimensionSpec, answers: Answers) -> DimensionScore:
    # The innermost loop of the product: locals only, one table lookup per answer, no
    # allocation per question (the explanation is rebuilt on demand from the same inputs).
    get = answers.get
    na = NOT_APPLICABLE
    total_weight = weighted = 0.0
    answered = not_applicable = missing = 0
    for code, weight, expected, table, question in dimension.plan:
        value = get(code)
        if table is not None and type(value) is expected:
            trait = table.get(value)
            if trait is None:
                raise InvalidAnswer(code, f"{value!r} is not an answer to this question")
        elif not question.scored:
            continue
        elif value is None:
            missing += 1
            continue
        elif value is na:
            if not question.allow_na:
                raise InvalidAnswer(code, "“not applicable” is not allowed here")
            not_applicable += 1
            continue
        else:  # a number, or a value of the wrong type: check it fully
            trait = trait_of(question, value)
            if question.reverse:
                trait = 1.0 - trait
        answered += 1
        total_weight += weight
        weighted += weight * trait
    # tuple.__new__ directly: the same object DimensionScore(...) makes, minus a Python
    # call frame, ten times per answer set.
    return _make(
        DimensionScore,
        (
            dimension.code,
            dimension.kind,
            dimension.weight,
            100.0 * weighted / total_weight if total_weight else None,
            answered,
            not_applicable,
            missing,
            total_weight,
            dimension,
            answers,
        ),
    )


def evidence_strength(
    item: Evidence, *, today: date, policy: Policy = DEFAULT_POLICY
) -> tuple[float, float]:
    """(eᵢ, decay) for one past experience."""
    if not 1 <= item.severity <= 5:
        raise InvalidAnswer(item.key, "severity is from 1 to 5")
    try:
        factor = policy.outcome_factor[item.outcome]
    except KeyError:
        raise InvalidAnswer(item.key, f"unknown outcome {item.outcome!r}") from None
    decay = 1.0
    if item.ended_on is not None:
        years = max(0.0, (today - item.ended_on).days / 365.25)
        decay = 0.5 ** (years / policy.half_life_years)
    return item.severity / 5 * factor * decay, decay


def score(
    structure: Structure,
    answers: Answers,
    evidence: Sequence[Evidence] = (),
    *,
    today: date,
    policy: Policy = DEFAULT_POLICY,
) -> Result:
    """Score one answer set. Raises InvalidAnswer for an answer a question cannot take."""
    dimensions = []
    # Dimension-weighted sums per kind and each dimension's health, in the same pass.
    maturity_weight = maturity_sum = defensive_weight = defensive_sum = 0.0
    total_questions = done = 0
    health: list[tuple[float, int, str]] = []
    for position, dimension in enumerate(structure.dimensions):
        scored = _score_dimension(dimension, answers)
        dimensions.append(scored)
        total_questions += scored.answered + scored.not_applicable + scored.missing
        done += scored.answered + scored.not_applicable
        value = scored.score
        if value is not None:
            if dimension.kind == "maturity":
                maturity_weight += dimension.weight
                maturity_sum += dimension.weight * value
                health.append((value, position, dimension.code))
            else:
                defensive_weight += dimension.weight
                defensive_sum += dimension.weight * value
                health.append((100.0 - value, position, dimension.code))
    maturity = maturity_sum / maturity_weight if maturity_weight else None
    questionnaire_defensiveness = defensive_sum / defensive_weight if defensive_weight else None

    combined = 0.0
    uplift = 0.0
    evidence_contributions: tuple[EvidenceContribution, ...] = ()
    if evidence:
        strengths = [evidence_strength(item, today=today, policy=policy) for item in evidence]
        combined = 1.0 - prod(1.0 - strength for strength, _ in strengths)
    if questionnaire_defensiveness is None and combined == 0.0:
        defensiveness = None
    else:
        base = questionnaire_defensiveness or 0.0
        uplift = (100.0 - base) * policy.blend * combined
        defensiveness = base + uplift
    if evidence:
        total_strength = sum(strength for strength, _ in strengths)
        evidence_contributions = tuple(
            EvidenceContribution(
                item.key,
                strength,
                decay,
                uplift * strength / total_strength if total_strength else 0.0,
            )
            for item, (strength, decay) in zip(evidence, strengths, strict=True)
        )

    health.sort()  # weakest first; ties keep questionnaire order
    return Result(
        tuple(dimensions),
        maturity,
        level_for(maturity) if maturity is not None else None,
        questionnaire_defensiveness,
        combined,
        defensiveness,
        quadrant_for(maturity, defensiveness),
        100.0 * done / total_questions if total_questions else 100.0,
        tuple(code for _, _, code in health[:3]),
        evidence_contributions,
    )


# --- What moved since last time ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DimensionChange:
    code: str
    before: float | None
    after: float | None
    delta: float | None
    # Every question of the current dimension → its change in points (0 when it held).
    moved: Mapping[str, float]

    @property
    def movers(self) -> tuple[tuple[str, float], ...]:
        """The questions that moved the score, largest change first."""
        return tuple(
            sorted(
                ((q, points) for q, points in self.moved.items() if abs(points) > 1e-9),
                key=lambda item: -abs(item[1]),
            )
        )


def stored_dimensions(result: Result) -> list[dict[str, Any]]:
    """The dimensions of a result as they are stored with an assessment (its snapshot):
    scores and each question's contribution, plain data that never changes later."""
    return [
        {
            "code": d.code,
            "kind": d.kind,
            "weight": d.weight,
            "score": d.score,
            "answered": d.answered,
            "not_applicable": d.not_applicable,
            "missing": d.missing,
            "contributions": [
                {
                    "question": c.question,
                    "status": c.status.value,
                    "value": c.value if c.value is not NOT_APPLICABLE else None,
                    "trait": c.trait,
                    "weight": c.weight,
                    "points": c.points,
                }
                for c in d.contributions
            ],
        }
        for d in result.dimensions
    ]


def compare(
    previous: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> dict[str, DimensionChange]:
    """Per dimension in both: the score change since ``previous`` and how many points
    each question of ``current`` moved. Both are stored dimensions
    (:func:`stored_dimensions`), so an old assessment is compared as it was scored then."""
    earlier = {d["code"]: d for d in previous}
    changes = {}
    for dimension in current:
        then = earlier.get(dimension["code"])
        if then is None:
            continue  # new in this version: nothing to compare with
        before = then["score"]
        old_points = {c["question"]: c["points"] for c in then["contributions"]}
        after = dimension["score"]
        changes[dimension["code"]] = DimensionChange(
            code=dimension["code"],
            before=before,
            after=after,
            delta=after - before if after is not None and before is not None else None,
            moved={
                c["question"]: c["points"] - old_points.get(c["question"], 0.0)
                for c in dimension["contributions"]
            },
        )
    return changes
