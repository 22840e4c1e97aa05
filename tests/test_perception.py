"""The perception gap and inter-rater agreement (assessments/perception.py): hand-computed
cases, and properties that hold for any input — bounds, symmetry where it holds, and no
division by zero with one respondent or none."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.perception import (
    LEVEL_POINTS,
    agreement,
    far_apart,
    gap_of,
    level_of,
    perception_gaps,
    weighted_kappa,
)
from assessments.scoring import NOT_APPLICABLE, DimensionSpec, QuestionSpec, Structure

LEVELS = st.integers(min_value=1, max_value=5)
SCORES = st.floats(min_value=0, max_value=100, allow_nan=False)


def textbook_kappa(a: list[int], b: list[int], k: int = 5) -> float | None:
    """Cohen's quadratic-weighted kappa as textbooks write it: 1 − Σ w·observed / Σ w·expected
    over the k × k table of categories, w = (i − j)² / (k − 1)²."""
    n = len(a)
    weight = {(i, j): (i - j) ** 2 / (k - 1) ** 2 for i, j in product(range(1, k + 1), repeat=2)}
    observed = sum(weight[x, y] for x, y in zip(a, b, strict=True)) / n
    share_a = {i: a.count(i) / n for i in range(1, k + 1)}
    share_b = {j: b.count(j) / n for j in range(1, k + 1)}
    expected = sum(weight[i, j] * share_a[i] * share_b[j] for i, j in weight)
    return None if expected == 0 else 1 - observed / expected


# --- Agreement: by hand -----------------------------------------------------------------


def test_three_raters_agreement_by_hand():
    levels = {
        "account manager": {"q1": 1, "q2": 2, "q3": 3, "q4": 4},
        "operations lead": {"q1": 1, "q2": 2, "q3": 3, "q4": 4},
        "quality": {"q1": 2, "q2": 2, "q3": 5, "q4": 4},
    }
    result = agreement(levels)
    # q3 (3, 3, 5) is two levels apart; q1, q2 and q4 are within one: 3 of 4.
    assert result.within_one == 0.75
    assert far_apart(levels) == ["q3"]
    # Identical raters: κ = 1. Either of them against quality: a = 1 2 3 4, c = 2 2 5 4;
    # ā = 2.5, c̄ = 3.25, s_a² = 1.25, s_c² = 1.6875, s_ac = 1.125;
    # κ = 2·1.125 / (1.25 + 1.6875 + 0.75²) = 2.25 / 3.5 = 9/14. Mean of 1, 9/14, 9/14.
    assert result.kappa == pytest.approx((1 + 9 / 14 + 9 / 14) / 3)
    assert (result.questions, result.pairs) == (4, 3)


def test_opposite_raters_have_a_kappa_of_minus_one():
    assert weighted_kappa([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_constant_and_equal_raters_have_no_kappa_and_different_constants_have_zero():
    assert weighted_kappa([3, 3, 3], [3, 3, 3]) is None
    assert weighted_kappa([3, 3, 3], [4, 4, 4]) == 0
    assert weighted_kappa([], []) is None


def test_agreement_of_one_rater_or_none_is_undefined_not_a_crash():
    for levels in ({}, {"only": {"q1": 3, "q2": 4}}, {"a": {"q1": 3}, "b": {"q2": 3}}):
        result = agreement(levels)
        assert (result.within_one, result.kappa, result.questions) == (None, None, 0)


# --- Agreement: properties --------------------------------------------------------------


@given(st.lists(st.tuples(LEVELS, LEVELS), min_size=1, max_size=30))
def test_kappa_is_the_textbook_weighted_kappa_for_levels_one_to_five(pairs):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    ours, textbook = weighted_kappa(a, b), textbook_kappa(a, b)
    if textbook is None:
        assert ours is None
    else:
        assert ours == pytest.approx(textbook, abs=1e-9)


@given(
    st.lists(
        st.tuples(st.floats(1, 5, allow_nan=False), st.floats(1, 5, allow_nan=False)),
        min_size=1,
        max_size=30,
    ),
    st.floats(-3, 3, allow_nan=False),
)
def test_kappa_is_bounded_symmetric_and_blind_to_a_shared_shift(pairs, shift):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    kappa, back = weighted_kappa(a, b), weighted_kappa(b, a)
    assert (kappa is None) == (back is None)
    if kappa is not None:
        assert kappa == pytest.approx(back)
        assert -1.0 <= kappa <= 1.0
        shifted = weighted_kappa([x + shift for x in a], [y + shift for y in b])
        assert shifted is not None
        assert shifted == pytest.approx(kappa, abs=1e-6)
    same = weighted_kappa(a, a)
    assert same is None or same == pytest.approx(1.0)


@given(
    st.dictionaries(
        st.sampled_from(["am", "ops", "quality", "cfo"]),
        st.dictionaries(st.sampled_from(["q1", "q2", "q3", "q4", "q5"]), LEVELS, max_size=5),
        max_size=4,
    )
)
def test_agreement_is_bounded_and_does_not_depend_on_the_raters_order(levels):
    result = agreement(levels)
    reordered = agreement(dict(reversed(list(levels.items()))))
    assert result.within_one == reordered.within_one
    assert (result.kappa is None) == (reordered.kappa is None)
    if result.kappa is not None:
        assert result.kappa == pytest.approx(reordered.kappa)
        assert -1.0 <= result.kappa <= 1.0
    if result.within_one is not None:
        assert 0.0 <= result.within_one <= 1.0
        assert len(far_apart(levels)) == round(result.questions * (1 - result.within_one))


# --- The gap ------------------------------------------------------------------------------


def test_no_respondent_gives_no_gap_and_one_gives_no_spread():
    nobody = gap_of("governance", [], 40.0)
    assert (nobody.client_mean, nobody.client_spread, nobody.respondents, nobody.gap) == (
        None,
        None,
        0,
        None,
    )
    assert nobody.gap_levels is None
    unscored = gap_of("governance", [None, None], 40.0)
    assert unscored.respondents == 0
    assert unscored.gap is None
    one = gap_of("governance", [90.0], 40.0)
    assert (one.client_mean, one.client_spread, one.respondents, one.gap) == (90.0, 0.0, 1, 50.0)
    assert one.gap_levels == 2.0  # "two levels above ours"
    no_supplier = gap_of("governance", [90.0, 70.0], None)
    assert no_supplier.client_mean == 80.0
    assert no_supplier.gap is None


def test_two_respondents_by_hand():
    gap = gap_of("governance", [75.0, 25.0, None], 50.0)
    # Mean 50, population standard deviation √((25² + 25²) / 2) = 25, gap 0.
    assert (gap.client_mean, gap.client_spread, gap.respondents, gap.gap) == (
        50.0,
        25.0,
        2,
        0.0,
    )


@given(st.lists(st.one_of(st.none(), SCORES), max_size=12), st.one_of(st.none(), SCORES))
def test_the_gap_is_bounded_by_the_respondents(scores, supplier):
    gap = gap_of("d", scores, supplier)
    given_ = [s for s in scores if s is not None]
    assert gap.respondents == len(given_)
    if not given_:
        assert gap.client_mean is None
        assert gap.gap is None
        return
    assert min(given_) - 1e-9 <= gap.client_mean <= max(given_) + 1e-9
    assert 0.0 <= gap.client_spread <= (max(given_) - min(given_)) / 2 + 1e-9
    if supplier is not None:
        assert -100.0 - 1e-9 <= gap.gap <= 100.0 + 1e-9
        assert gap.gap_levels == pytest.approx(gap.gap / LEVEL_POINTS)


@given(SCORES, SCORES)
def test_one_view_against_another_is_the_opposite_gap(client, supplier):
    there = gap_of("d", [client], supplier).gap
    back = gap_of("d", [supplier], client).gap
    assert there == pytest.approx(-back, abs=1e-9)


# --- From answers, through the engine -----------------------------------------------------

STRUCTURE = Structure(
    dimensions=(
        DimensionSpec(
            code="governance",
            kind="maturity",
            questions=(
                QuestionSpec(code="g1", type="scale", weight=2),
                QuestionSpec(code="g2", type="scale", allow_na=True),
                QuestionSpec(code="g-internal", type="scale"),  # not asked of the client
            ),
        ),
        DimensionSpec(
            code="change",
            kind="defensiveness",
            questions=(QuestionSpec(code="c1", type="yes_no"),),
        ),
        DimensionSpec(
            code="internal-only",
            kind="maturity",
            questions=(QuestionSpec(code="i1", type="scale"),),
        ),
    )
)
ASKED = {"g1", "g2", "c1"}


def test_gaps_compare_the_same_questions_through_the_engine():
    respondents = [
        {"g1": 5, "g2": 5, "c1": False},  # governance 100
        {"g1": 4, "g2": NOT_APPLICABLE, "c1": True},  # governance 75 (g2 left out)
    ]
    # The supplier's internal question and dimension are not part of the comparison.
    supplier = {"g1": 2, "g2": 2, "g-internal": 5, "c1": True, "i1": 5}  # governance 25
    gaps = perception_gaps(STRUCTURE, ASKED, respondents, supplier)
    assert [g.code for g in gaps] == ["governance", "change"]
    governance, change = gaps
    assert (governance.client_mean, governance.supplier, governance.gap) == (87.5, 25.0, 62.5)
    assert governance.client_spread == 12.5
    assert governance.gap_levels == 2.5
    assert (change.client_mean, change.supplier, change.respondents) == (50.0, 100.0, 2)


def test_a_gap_of_one_level_is_one_level_whatever_the_float_arithmetic():
    # (5, 3) against (4, 2) on weights 2 and 1: 83.33… − 58.33… is 24.999999999999993 in
    # binary floating point; a rule asking for one level must still see one.
    [governance, _change] = perception_gaps(
        STRUCTURE, ASKED, [{"g1": 5, "g2": 3}], {"g1": 4, "g2": 2}
    )
    assert governance.gap_levels == 1.0


def test_an_answer_of_ours_the_rounds_version_cannot_score_counts_as_unanswered():
    """Our assessment was on an older version: "not applicable" where the round's version
    no longer allows it, or a value its question cannot take, is left out, not a crash."""
    strict = Structure(
        dimensions=(
            DimensionSpec(
                code="governance",
                kind="maturity",
                questions=(
                    QuestionSpec(code="g1", type="scale", weight=2),
                    QuestionSpec(code="g2", type="scale"),  # no "not applicable" any more
                ),
            ),
        )
    )
    ours = {"g1": 3, "g2": NOT_APPLICABLE}
    [governance] = perception_gaps(strict, {"g1", "g2"}, [{"g1": 5, "g2": 5}], ours)
    assert (governance.supplier, governance.gap) == (50.0, 50.0)  # g1 alone: level 3
    [governance] = perception_gaps(strict, {"g1", "g2"}, [{"g1": 5}], {"g1": "yes", "g2": 1})
    assert governance.supplier == 0.0  # g2 alone; "yes" is no scale answer


def test_gaps_without_respondents_are_empty_not_zero():
    gaps = perception_gaps(STRUCTURE, ASKED, [], {"g1": 3, "c1": False})
    assert [(g.code, g.respondents, g.gap) for g in gaps] == [
        ("governance", 0, None),
        ("change", 0, None),
    ]


def test_an_answers_level_is_its_place_on_a_one_to_five_line():
    scale, yes_no = QuestionSpec(code="s", type="scale"), QuestionSpec(code="y", type="yes_no")
    assert [level_of(scale, v) for v in (1, 3, 5)] == [1.0, 3.0, 5.0]
    assert (level_of(yes_no, True), level_of(yes_no, False)) == (5.0, 1.0)
    assert level_of(scale, None) is None
    assert level_of(scale, NOT_APPLICABLE) is None
    assert level_of(QuestionSpec(code="t", type="text"), "free") is None
