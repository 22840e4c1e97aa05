"""What an education action achieved: pure arithmetic over two assessments' dimension
scores. The services store it when the engagement is next assessed; the demo seed uses
the same rule for its history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# A dimension's score in one assessment: (kind, score), kind "maturity" or "defensiveness".
Scores = Mapping[str, tuple[str, float | None]]


def uplift_of(
    before: Scores, after: Scores, targets: Sequence[str]
) -> tuple[dict[str, float], float | None]:
    """The change of each targeted dimension (all maturity dimensions when none is
    named), and the mean improvement over them — a maturity score rising, or a
    defensiveness score falling, counts as positive. None when nothing can be compared."""
    codes = list(targets) or [code for code, (kind, _score) in after.items() if kind == "maturity"]
    deltas: dict[str, float] = {}
    improvements: list[float] = []
    for code in codes:
        if code not in before or code not in after:
            continue
        (kind, old), (_kind, new) = before[code], after[code]
        if old is None or new is None:
            continue
        deltas[code] = round(new - old, 2)
        improvements.append(-deltas[code] if kind == "defensiveness" else deltas[code])
    mean = round(sum(improvements) / len(improvements), 2) if improvements else None
    return deltas, mean


def difference(after: float | None, before: float | None) -> float | None:
    if after is None or before is None:
        return None
    return round(after - before, 2)
