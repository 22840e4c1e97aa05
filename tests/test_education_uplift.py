"""Uplift arithmetic: pure, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from education.uplift import difference, uplift_of

BEFORE = {"governance": ("maturity", 30.0), "distrust": ("defensiveness", 70.0),
          "data": ("maturity", None)}  # fmt: skip
AFTER = {"governance": ("maturity", 55.0), "distrust": ("defensiveness", 40.0),
         "data": ("maturity", 80.0)}  # fmt: skip


def test_a_rising_maturity_score_is_uplift():
    assert uplift_of(BEFORE, AFTER, ["governance"]) == ({"governance": 25.0}, 25.0)


def test_a_falling_defensiveness_score_is_uplift_too():
    assert uplift_of(BEFORE, AFTER, ["distrust"]) == ({"distrust": -30.0}, 30.0)


def test_the_mean_is_over_the_dimensions_that_can_be_compared():
    deltas, mean = uplift_of(BEFORE, AFTER, ["governance", "distrust", "data", "unknown"])
    assert deltas == {"governance": 25.0, "distrust": -30.0}
    assert mean == 27.5


def test_no_named_targets_means_every_maturity_dimension():
    assert uplift_of(BEFORE, AFTER, []) == ({"governance": 25.0}, 25.0)


def test_nothing_comparable_is_no_uplift_not_zero():
    assert uplift_of(BEFORE, AFTER, ["data"]) == ({}, None)
    assert difference(None, 3.0) is None
    assert difference(50.0, 42.5) == 7.5


scores = st.floats(0, 100)


@given(st.lists(st.tuples(st.sampled_from(["maturity", "defensiveness"]), scores, scores),
                min_size=1, max_size=6))  # fmt: skip
def test_uplift_is_positive_exactly_when_the_client_got_better_on_average(rows):
    before = {f"d{i}": (kind, old) for i, (kind, old, _new) in enumerate(rows)}
    after = {f"d{i}": (kind, new) for i, (kind, _old, new) in enumerate(rows)}
    _deltas, mean = uplift_of(before, after, list(before))
    better = [new - old if kind == "maturity" else old - new for kind, old, new in rows]
    assert mean is not None
    assert abs(mean - sum(better) / len(better)) < 0.01 * len(better) + 0.01
