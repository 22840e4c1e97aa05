"""Which action templates a result calls for: the playbook's rules, applied.

Pure: plain data in, frozen dataclasses out, no ORM. The service turns the matches into
actions; tests check the rules' logic here without a database.

A rule matches when its condition holds and, if it names phases, the engagement is in one
of them. Several rules may name the same template (a workshop for two weak dimensions):
the template is planned once, with every reason and every targeted dimension.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

WEAK_DIMENSION = "weak_dimension"
DEFENSIVENESS_BAND = "defensiveness_band"
QUADRANT = "quadrant"
PHASE = "phase"
PERCEPTION_GAP = "perception_gap"
RULE_KINDS = (WEAK_DIMENSION, DEFENSIVENESS_BAND, QUADRANT, PHASE, PERCEPTION_GAP)


@dataclass(frozen=True)
class Rule:
    template: str
    kind: str
    dimension: str = ""
    threshold: float | None = None
    min_defensiveness: float | None = None
    max_defensiveness: float | None = None
    quadrant: str = ""
    phase: str = ""
    gap_levels: float | None = None
    phases: tuple[str, ...] = ()
    # Dimensions the template itself targets, besides the weak dimension a rule names.
    template_targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """What the plan is built from: the result and where the engagement stands."""

    dimension_scores: Mapping[str, float | None]
    defensiveness_index: float | None
    quadrant: str | None
    phase: str
    # The perception gap of each dimension (docs/client-voice.md §4), in levels: the
    # client's view minus ours, from the engagement's latest round with respondents.
    gaps: Mapping[str, float | None] = field(default_factory=dict)
    # Which of them are maturity dimensions: what a gap rule naming no dimension reads.
    maturity_dimensions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reason:
    kind: str
    subject: str = ""
    value: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "subject": self.subject, "value": self.value}


@dataclass(frozen=True)
class Match:
    template: str
    reasons: tuple[Reason, ...]
    dimensions: tuple[str, ...] = field(default=())


def _reason(rule: Rule, facts: Facts) -> Reason | None:
    if rule.kind == WEAK_DIMENSION:
        score = facts.dimension_scores.get(rule.dimension)
        if score is None or rule.threshold is None or score >= rule.threshold:
            return None
        return Reason(WEAK_DIMENSION, rule.dimension, round(score, 1))
    if rule.kind == DEFENSIVENESS_BAND:
        index = facts.defensiveness_index
        if index is None:
            return None
        low = rule.min_defensiveness if rule.min_defensiveness is not None else 0.0
        high = rule.max_defensiveness if rule.max_defensiveness is not None else float("inf")
        if not low <= index < high:
            return None
        return Reason(DEFENSIVENESS_BAND, "", round(index, 1))
    if rule.kind == QUADRANT:
        if not facts.quadrant or facts.quadrant != rule.quadrant:
            return None
        return Reason(QUADRANT, rule.quadrant)
    if rule.kind == PHASE:
        if facts.phase != rule.phase:
            return None
        return Reason(PHASE, rule.phase)
    if rule.kind == PERCEPTION_GAP:
        return _gap_reason(rule, facts)
    return None


def _gap_reason(rule: Rule, facts: Facts) -> Reason | None:
    """The rule's dimension (or, when it names none, the widest of the maturity
    dimensions) whose gap is at least ``gap_levels`` in the rule's direction: above us
    when positive, below when negative."""
    wanted = rule.gap_levels
    if not wanted:
        return None
    codes = (
        [rule.dimension]
        if rule.dimension
        else [code for code in facts.gaps if code in facts.maturity_dimensions]
    )
    found = [
        (code, gap)
        for code in codes
        if (gap := facts.gaps.get(code)) is not None
        and (gap >= wanted if wanted > 0 else gap <= wanted)
    ]
    if not found:
        return None
    code, gap = max(found, key=lambda item: abs(item[1]))
    return Reason(PERCEPTION_GAP, code, round(gap, 1))


def match(rules: Iterable[Rule], facts: Facts) -> tuple[Match, ...]:
    """The templates the result calls for, in the order of their first matching rule."""
    reasons: dict[str, list[Reason]] = {}
    dimensions: dict[str, list[str]] = {}
    for rule in rules:
        if rule.phases and facts.phase not in rule.phases:
            continue
        reason = _reason(rule, facts)
        if reason is None:
            continue
        found = reasons.setdefault(rule.template, [])
        if reason not in found:
            found.append(reason)
        targets = dimensions.setdefault(rule.template, [])
        extra = [reason.subject] if rule.kind in (WEAK_DIMENSION, PERCEPTION_GAP) else []
        for code in (*extra, *rule.template_targets):
            if code and code not in targets:
                targets.append(code)
    return tuple(
        Match(template=code, reasons=tuple(found), dimensions=tuple(dimensions[code]))
        for code, found in reasons.items()
    )
