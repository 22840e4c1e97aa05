"""The pure rule matcher: which templates a result calls for. No database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from education.planning import Facts, Reason, Rule, match

RULES = (
    Rule(template="walkthrough", kind="weak_dimension", dimension="process", threshold=50),
    Rule(template="workshop", kind="weak_dimension", dimension="governance", threshold=50),
    Rule(template="workshop", kind="weak_dimension", dimension="data", threshold=40),
    Rule(template="meeting", kind="defensiveness_band", min_defensiveness=60,
         max_defensiveness=101, template_targets=("distrust",)),
    Rule(template="onboarding", kind="quadrant", quadrant="guarded_novice"),
    Rule(template="close", kind="phase", phase="closing"),
    Rule(template="review", kind="weak_dimension", dimension="partnership", threshold=50,
         phases=("operation",)),
)  # fmt: skip


def facts(phase="operation", defensiveness=30.0, quadrant="open_novice", **scores):
    base = {"process": 80.0, "governance": 80.0, "data": 80.0, "partnership": 80.0}
    return Facts(
        dimension_scores=base | scores,
        defensiveness_index=defensiveness,
        quadrant=quadrant,
        phase=phase,
    )


def test_a_strong_open_client_in_operation_needs_nothing():
    assert match(RULES, facts()) == ()


def test_a_weak_dimension_plans_its_template_targeting_it():
    (found,) = match(RULES, facts(process=32.4))
    assert found.template == "walkthrough"
    assert found.reasons == (Reason("weak_dimension", "process", 32.4),)
    assert found.dimensions == ("process",)


def test_the_threshold_itself_is_not_weak():
    assert match(RULES, facts(process=50.0)) == ()


def test_two_rules_for_one_template_plan_it_once_with_both_reasons():
    (found,) = match(RULES, facts(governance=20.0, data=10.0))
    assert found.template == "workshop"
    assert [r.subject for r in found.reasons] == ["governance", "data"]
    assert found.dimensions == ("governance", "data")


def test_a_defensiveness_band_includes_its_lower_end_and_excludes_its_upper():
    assert [m.template for m in match(RULES, facts(defensiveness=60.0))] == ["meeting"]
    assert match(RULES, facts(defensiveness=59.9)) == ()
    (found,) = match(RULES, facts(defensiveness=100.0))
    assert found.dimensions == ("distrust",)


def test_quadrant_and_phase_rules():
    found = match(RULES, facts(quadrant="guarded_novice", phase="closing"))
    assert [m.template for m in found] == ["onboarding", "close"]


def test_a_rule_limited_to_phases_is_silent_elsewhere():
    assert [m.template for m in match(RULES, facts(partnership=10.0))] == ["review"]
    assert match(RULES, facts(partnership=10.0, phase="renewal")) == ()


def test_an_unanswered_dimension_is_not_called_weak():
    assert match(RULES, facts(process=None)) == ()


scores = st.one_of(st.none(), st.floats(0, 100))


@given(scores, scores, scores, scores, st.one_of(st.none(), st.floats(0, 100)))
def test_each_template_is_planned_at_most_once_with_a_reason(p, g, d, partnership, index):
    found = match(
        RULES,
        Facts(
            dimension_scores={"process": p, "governance": g, "data": d, "partnership": partnership},
            defensiveness_index=index,
            quadrant=None,
            phase="operation",
        ),
    )
    templates = [m.template for m in found]
    assert len(templates) == len(set(templates))
    assert all(m.reasons for m in found)


@given(st.floats(0, 100), st.floats(0, 100))
def test_a_lower_score_never_plans_less(low, high):
    low, high = sorted([low, high])
    weaker = {m.template for m in match(RULES, facts(process=low))}
    stronger = {m.template for m in match(RULES, facts(process=high))}
    assert stronger <= weaker


# --- Perception gap (docs/client-voice.md §4) ----------------------------------------------

GAP_RULES = (
    Rule(template="calibration", kind="perception_gap", gap_levels=2),
    Rule(template="governance", kind="perception_gap", dimension="governance", gap_levels=1),
    Rule(template="recognise", kind="perception_gap", gap_levels=-1.5),
    Rule(template="guarded", kind="perception_gap", dimension="distrust", gap_levels=1),
)


def gap_facts(**gaps):
    return Facts(
        dimension_scores={},
        defensiveness_index=None,
        quadrant=None,
        phase="operation",
        gaps=gaps,
        maturity_dimensions=frozenset({"governance", "process", "data"}),
    )


def test_a_gap_rule_fires_in_its_direction_and_targets_the_dimension():
    found = {m.template: m for m in match(GAP_RULES, gap_facts(governance=2.5, process=-0.5))}
    assert set(found) == {"calibration", "governance"}
    assert found["calibration"].reasons == (Reason("perception_gap", "governance", 2.5),)
    assert found["governance"].dimensions == ("governance",)
    # Below us by 1.5 levels or more: the negative rule, naming the widest such dimension.
    (below,) = match(GAP_RULES, gap_facts(governance=0.5, process=-1.5, data=-2.0))
    assert (below.template, below.reasons) == (
        "recognise",
        (Reason("perception_gap", "data", -2.0),),
    )


def test_a_gap_rule_naming_no_dimension_reads_only_maturity_dimensions():
    # distrust is a defensiveness dimension: only the rule naming it sees its gap.
    found = match(GAP_RULES, gap_facts(distrust=3.0, governance=None))
    assert [m.template for m in found] == ["guarded"]


def test_no_gap_heard_fires_no_gap_rule():
    assert match(GAP_RULES, gap_facts()) == ()
    assert (
        match((Rule(template="x", kind="perception_gap", gap_levels=0),), gap_facts(governance=3))
        == ()
    )


@given(st.dictionaries(st.sampled_from(["governance", "process", "data"]),
                       st.one_of(st.none(), st.floats(-4, 4, allow_nan=False))))  # fmt: skip
def test_a_positive_gap_rule_fires_exactly_when_some_gap_reaches_it(gaps):
    fired = match((Rule(template="t", kind="perception_gap", gap_levels=1.5),), gap_facts(**gaps))
    assert bool(fired) == any(g is not None and g >= 1.5 for g in gaps.values())
