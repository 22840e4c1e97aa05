"""The scoring engine, without a database: properties that must hold for any structure
and any answers (hypothesis), and the worked example of docs/scoring.md pinned down."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assessments.scoring import (
    NOT_APPLICABLE,
    DimensionSpec,
    Evidence,
    InvalidAnswer,
    Quadrant,
    QuestionSpec,
    Status,
    Structure,
    compare,
    level_for,
    score,
    stored_dimensions,
)

TODAY = date(2026, 11, 23)
weights = st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])


@st.composite
def questions(draw, code: str) -> QuestionSpec:
    kind = draw(st.sampled_from(["scale", "scale", "scale", "choice", "yes_no", "number", "text"]))
    common = {
        "code": code,
        "type": kind,
        "weight": draw(weights),
        "reverse": draw(st.booleans()) if kind != "text" else False,
        "allow_na": draw(st.booleans()),
    }
    if kind == "choice":
        scores = draw(st.lists(st.integers(0, 100), min_size=2, max_size=5))
        return QuestionSpec(**common, options={f"o{i}": s for i, s in enumerate(scores)})
    if kind == "number":
        low = draw(st.integers(-50, 50))
        return QuestionSpec(**common, min=low, max=low + draw(st.integers(1, 200)))
    return QuestionSpec(**common)


@st.composite
def structures(draw) -> Structure:
    dimensions = []
    count = draw(st.integers(1, 6))
    kinds = ["maturity"] + [
        draw(st.sampled_from(["maturity", "defensiveness"])) for _ in range(count - 1)
    ]
    for d, kind in enumerate(kinds):
        qs = tuple(draw(questions(f"d{d}q{q}")) for q in range(draw(st.integers(1, 6))))
        dimensions.append(
            DimensionSpec(code=f"d{d}", kind=kind, questions=qs, weight=draw(weights))
        )
    return Structure(tuple(dimensions))


def all_questions(structure: Structure) -> list[QuestionSpec]:
    return [q for d in structure.dimensions for q in d.questions]


def possible_values(question: QuestionSpec) -> list:
    if question.type == "scale":
        return [1, 2, 3, 4, 5]
    if question.type == "choice":
        return list(question.options)
    if question.type == "yes_no":
        return [False, True]
    if question.type == "number":
        return [question.min, (question.min + question.max) / 2, question.max]
    return ["free text"]


@st.composite
def answer_sets(draw, structure: Structure) -> dict:
    answers = {}
    for question in all_questions(structure):
        choice = draw(st.sampled_from(["answer", "answer", "answer", "missing", "na"]))
        if choice == "answer":
            answers[question.code] = draw(st.sampled_from(possible_values(question)))
        elif choice == "na" and question.allow_na:
            answers[question.code] = NOT_APPLICABLE
    return answers


@st.composite
def evidence_lists(draw) -> list[Evidence]:
    return [
        Evidence(
            key=f"e{i}",
            severity=draw(st.integers(1, 5)),
            outcome=draw(st.sampled_from(["success", "mixed", "failure"])),
            ended_on=draw(st.none() | st.dates(date(2010, 1, 1), TODAY)),
        )
        for i in range(draw(st.integers(0, 4)))
    ]


@st.composite
def scenarios(draw):
    structure = draw(structures())
    return structure, draw(answer_sets(structure)), draw(evidence_lists())


def in_range(value) -> bool:
    return value is None or -1e-9 <= value <= 100 + 1e-9


# --- Properties -------------------------------------------------------------------------


@given(scenarios())
def test_every_score_stays_within_0_and_100(scenario):
    structure, answers, evidence = scenario
    result = score(structure, answers, evidence, today=TODAY)
    assert all(in_range(d.score) for d in result.dimensions)
    assert in_range(result.maturity_score)
    assert in_range(result.questionnaire_defensiveness)
    assert in_range(result.defensiveness_index)
    assert 0 <= result.completeness <= 100
    for dimension in result.dimensions:
        assert all(0 <= c.points <= 100 + 1e-9 for c in dimension.contributions)


@given(scenarios(), st.data())
def test_raising_one_answer_never_lowers_its_dimension_unless_reverse_scored(scenario, data):
    structure, answers, evidence = scenario
    candidates = [
        (d, q)
        for d in structure.dimensions
        for q in d.questions
        if q.type in {"scale", "yes_no", "number"}
    ]
    assume(candidates)
    dimension, question = data.draw(st.sampled_from(candidates))
    values = possible_values(question)
    low, high = sorted(
        data.draw(st.lists(st.sampled_from(values), min_size=2, max_size=2, unique=True))
    )
    before = score(structure, {**answers, question.code: low}, evidence, today=TODAY)
    after = score(structure, {**answers, question.code: high}, evidence, today=TODAY)
    b, a = before.dimension(dimension.code).score, after.dimension(dimension.code).score
    if question.reverse:
        assert a <= b + 1e-9
    else:
        assert a >= b - 1e-9


@given(scenarios(), st.sampled_from([0.1, 2.0, 7.5, 1000.0]))
def test_scaling_all_weights_by_a_constant_changes_nothing(scenario, factor):
    structure, answers, evidence = scenario
    scaled = Structure(
        tuple(
            DimensionSpec(
                code=d.code,
                kind=d.kind,
                weight=d.weight * factor,
                questions=tuple(
                    QuestionSpec(
                        code=q.code,
                        type=q.type,
                        weight=q.weight * factor,
                        reverse=q.reverse,
                        allow_na=q.allow_na,
                        options=q.options,
                        min=q.min,
                        max=q.max,
                    )
                    for q in d.questions
                ),
            )
            for d in structure.dimensions
        )
    )
    original = score(structure, answers, evidence, today=TODAY)
    rescaled = score(scaled, answers, evidence, today=TODAY)
    assert rescaled.maturity_score == pytest.approx(original.maturity_score)
    assert rescaled.defensiveness_index == pytest.approx(original.defensiveness_index)
    assert rescaled.maturity_level == original.maturity_level
    assert [d.score for d in rescaled.dimensions] == pytest.approx(
        [d.score for d in original.dimensions]
    )


def best_value(question: QuestionSpec, kind: str):
    """The top answer: most mature on a maturity dimension, least defensive otherwise."""

    def trait(value) -> float:
        from assessments.scoring import trait_of

        t = trait_of(question, value)
        return 1 - t if question.reverse else t

    values = possible_values(question)
    return max(values, key=trait) if kind == "maturity" else min(values, key=trait)


@given(structures())
def test_a_full_set_of_top_answers_gives_level_5_and_no_questionnaire_defensiveness(structure):
    assume(
        any(
            q.type != "text"
            for d in structure.dimensions
            if d.kind == "maturity"
            for q in d.questions
        )
    )
    assume(
        all(q.type != "choice" or max(q.options.values()) == 100 for q in all_questions(structure))
    )
    assume(
        all(q.type != "choice" or min(q.options.values()) == 0 for q in all_questions(structure))
    )
    answers = {
        q.code: best_value(q, d.kind)
        for d in structure.dimensions
        for q in d.questions
        if q.type != "text"
    }
    result = score(structure, answers, today=TODAY)
    assert result.maturity_score == pytest.approx(100)
    assert result.maturity_level == 5
    if any(
        q.type != "text"
        for d in structure.dimensions
        if d.kind == "defensiveness"
        for q in d.questions
    ):
        assert result.questionnaire_defensiveness == pytest.approx(0)
        assert result.defensiveness_index == pytest.approx(0)
        assert result.quadrant == Quadrant.STRATEGIC_PARTNER
    assert result.completeness == 100


@given(scenarios(), evidence_lists())
def test_evidence_can_only_raise_defensiveness(scenario, more):
    structure, answers, evidence = scenario
    without = score(structure, answers, evidence, today=TODAY)
    extra = [
        Evidence(key=f"x{e.key}", severity=e.severity, outcome=e.outcome, ended_on=e.ended_on)
        for e in more
    ]
    with_more = score(structure, answers, [*evidence, *extra], today=TODAY)
    if without.defensiveness_index is not None:
        assert with_more.defensiveness_index >= without.defensiveness_index - 1e-9
    none = score(structure, answers, today=TODAY)
    if none.defensiveness_index is not None:
        assert without.defensiveness_index >= none.defensiveness_index - 1e-9


@given(scenarios(), st.randoms())
def test_the_result_does_not_depend_on_answer_order(scenario, rnd):
    structure, answers, evidence = scenario
    items = list(answers.items())
    rnd.shuffle(items)
    assert score(structure, dict(items), evidence, today=TODAY) == score(
        structure, answers, evidence, today=TODAY
    )


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_explanation_adds_up_to_each_dimension_score(scenario):
    structure, answers, evidence = scenario
    result = score(structure, answers, evidence, today=TODAY)
    for dimension in result.dimensions:
        total = sum(c.points for c in dimension.contributions)
        assert total == pytest.approx(dimension.score or 0.0, abs=1e-6)
        statuses = [c.status for c in dimension.contributions]
        assert statuses.count(Status.ANSWERED) == dimension.answered
        assert statuses.count(Status.MISSING) == dimension.missing
        assert statuses.count(Status.NOT_APPLICABLE) == dimension.not_applicable
    uplift = (result.defensiveness_index or 0) - (result.questionnaire_defensiveness or 0)
    assert sum(e.points for e in result.evidence) == pytest.approx(uplift, abs=1e-6)


# --- Missing, not applicable, invalid ---------------------------------------------------

SIMPLE = Structure(
    (
        DimensionSpec(
            code="knowledge",
            kind="maturity",
            questions=(
                QuestionSpec("k1", "scale"),
                QuestionSpec("k2", "scale", allow_na=True),
                QuestionSpec("k3", "text", required=False),
            ),
        ),
        DimensionSpec(
            code="distrust", kind="defensiveness", questions=(QuestionSpec("d1", "scale"),)
        ),
    )
)


def test_missing_and_not_applicable_answers_are_left_out_not_counted_as_zero():
    only_one = score(SIMPLE, {"k1": 5}, today=TODAY)
    with_na = score(SIMPLE, {"k1": 5, "k2": NOT_APPLICABLE}, today=TODAY)
    assert only_one.dimension("knowledge").score == 100
    assert with_na.dimension("knowledge").score == 100
    # …but completeness tells them apart: N/A is an answer, missing is not.
    assert only_one.completeness == pytest.approx(100 / 3)
    assert with_na.completeness == pytest.approx(200 / 3)


def test_a_dimension_with_no_answer_has_no_score_and_no_quadrant_follows():
    result = score(SIMPLE, {"k1": 2}, today=TODAY)
    assert result.dimension("distrust").score is None
    assert result.defensiveness_index is None
    assert result.quadrant is None


@pytest.mark.parametrize(
    ("answers", "code"),
    [({"k1": 6}, "k1"), ({"k1": True}, "k1"), ({"k1": 2.5}, "k1"), ({"k1": NOT_APPLICABLE}, "k1")],
)
def test_an_answer_the_question_cannot_take_is_refused(answers, code):
    with pytest.raises(InvalidAnswer) as error:
        score(SIMPLE, answers, today=TODAY)
    assert error.value.code == code


def test_levels_follow_the_thresholds():
    assert [level_for(s) for s in (0, 19.99, 20, 39.9, 40, 59.9, 60, 79.9, 80, 100)] == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
        5,
        5,
    ]


def test_compare_names_the_questions_that_moved_a_dimension():
    before = score(SIMPLE, {"k1": 2, "k2": 3, "d1": 4}, today=TODAY)
    after = score(SIMPLE, {"k1": 5, "k2": 3, "d1": 4}, today=TODAY)
    changes = compare(stored_dimensions(before), stored_dimensions(after))
    change = changes["knowledge"]
    assert change.delta == pytest.approx(37.5)
    assert change.movers[0][0] == "k1"
    assert change.movers[0][1] == pytest.approx(37.5)
    assert changes["distrust"].delta == 0
    assert changes["distrust"].movers == ()


# --- The worked example of docs/scoring.md ----------------------------------------------

EXAMPLE = Structure(
    (
        DimensionSpec(
            code="process-knowledge",
            kind="maturity",
            weight=1,
            questions=(
                QuestionSpec("pk-1", "scale", weight=2),
                QuestionSpec("pk-2", "yes_no"),
                QuestionSpec("pk-3", "scale", allow_na=True),
                QuestionSpec("pk-4", "scale", required=False),
            ),
        ),
        DimensionSpec(
            code="governance",
            kind="maturity",
            weight=2,
            questions=(
                QuestionSpec("gov-1", "scale"),
                QuestionSpec("gov-2", "number", reverse=True, min=0, max=24),
            ),
        ),
        DimensionSpec(
            code="distrust-control",
            kind="defensiveness",
            weight=1,
            questions=(
                QuestionSpec("dc-1", "scale"),
                QuestionSpec(
                    "dc-2",
                    "choice",
                    weight=2,
                    options={"never": 0, "monthly": 50, "every-invoice": 100},
                ),
                QuestionSpec("dc-notes", "text", required=False),
            ),
        ),
    )
)
EXAMPLE_ANSWERS = {
    "pk-1": 4,
    "pk-2": False,
    "pk-3": NOT_APPLICABLE,
    "gov-1": 5,
    "gov-2": 6,
    "dc-1": 3,
    "dc-2": "monthly",
    "dc-notes": "Audits every invoice since 2022.",
}
EXAMPLE_EVIDENCE = [
    Evidence("old supplier", severity=5, outcome="failure", ended_on=date(2022, 11, 23)),
    Evidence("current co-supplier", severity=4, outcome="mixed", ended_on=None),
]


@pytest.fixture
def example():
    return score(EXAMPLE, EXAMPLE_ANSWERS, EXAMPLE_EVIDENCE, today=TODAY)


def test_worked_example_dimension_scores(example):
    assert example.dimension("process-knowledge").score == pytest.approx(50.0)
    assert example.dimension("governance").score == pytest.approx(87.5)
    assert example.dimension("distrust-control").score == pytest.approx(50.0)
    points = {c.question: c.points for c in example.dimension("governance").contributions}
    assert points == pytest.approx({"gov-1": 50.0, "gov-2": 37.5})
    statuses = {c.question: c.status for c in example.dimension("process-knowledge").contributions}
    assert statuses == {
        "pk-1": Status.ANSWERED,
        "pk-2": Status.ANSWERED,
        "pk-3": Status.NOT_APPLICABLE,
        "pk-4": Status.MISSING,
    }


def test_worked_example_maturity_and_level(example):
    assert example.maturity_score == pytest.approx(75.0)
    assert example.maturity_level == 4


def test_worked_example_defensiveness_with_evidence(example):
    assert example.questionnaire_defensiveness == pytest.approx(50.0)
    assert example.evidence_strength == pytest.approx(0.55)
    assert example.defensiveness_index == pytest.approx(66.5)
    strengths = {e.key: (e.strength, e.decay, e.points) for e in example.evidence}
    assert strengths["old supplier"] == pytest.approx((0.25, 0.25, 16.5 * 0.25 / 0.65))
    assert strengths["current co-supplier"] == pytest.approx((0.40, 1.0, 16.5 * 0.40 / 0.65))


def test_worked_example_quadrant_completeness_and_weakest(example):
    assert example.quadrant == Quadrant.DEMANDING_EXPERT
    assert example.completeness == pytest.approx(87.5)
    assert example.weakest == ("process-knowledge", "distrust-control", "governance")


def test_a_score_on_a_threshold_reaches_the_level_despite_float_noise():
    # 100 · (0.7·0.6 + 3·0.6) / 3.7 is 59.99999999999999 in binary floating point.
    structure = Structure(
        (
            DimensionSpec(
                code="m",
                kind="maturity",
                questions=(
                    QuestionSpec("a", "choice", weight=0.7, options={"x": 60}),
                    QuestionSpec("b", "choice", weight=3, options={"x": 60}),
                ),
            ),
        )
    )
    result = score(structure, {"a": "x", "b": "x"}, today=TODAY)
    assert result.maturity_score == pytest.approx(60)
    assert result.maturity_level == 4
