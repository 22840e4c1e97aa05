"""Score 100,000 answer sets of the default questionnaire on one core.

Prints answer sets per second for the engine (full result: every dimension, maturity,
level, defensiveness with evidence, quadrant, completeness, weakest dimensions; the
explanation is built on demand and not read here) beside a plain-Python weighted mean of
the same numbers — the least work that could produce a maturity score — so the ratio
says what the engine's extra answers cost.

    .venv/bin/python bench/scoring.py [--sets 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessments.interchange import structure_from_document  # noqa: E402
from assessments.scoring import NOT_APPLICABLE, Evidence, score  # noqa: E402

TODAY = date(2026, 11, 23)


def answer_sets(structure, count: int, rng: random.Random) -> list[dict]:
    questions = [q for d in structure.dimensions for q in d.questions]
    sets = []
    for _ in range(count):
        answers: dict = {}
        for q in questions:
            roll = rng.random()
            if roll < 0.04:
                continue  # missing
            if roll < 0.08 and q.allow_na:
                answers[q.code] = NOT_APPLICABLE
            elif q.type == "scale":
                answers[q.code] = rng.randint(1, 5)
            elif q.type == "choice":
                answers[q.code] = rng.choice(list(q.options))
            elif q.type == "yes_no":
                answers[q.code] = rng.random() < 0.5
            elif q.type == "number":
                answers[q.code] = rng.uniform(q.min, q.max)
            else:
                answers[q.code] = "note"
        sets.append(answers)
    return sets


def plain_weighted_mean(structure, sets) -> float:
    """The baseline: one weighted mean of scale-like numbers per set, no checks."""
    plan = [
        (q.code, q.weight) for d in structure.dimensions for q in d.questions if q.type == "scale"
    ]
    started = time.perf_counter()
    for answers in sets:
        total = weighted = 0.0
        for code, weight in plan:
            value = answers.get(code)
            if type(value) is int:
                total += weight
                weighted += weight * (value - 1) / 4
        _ = 100 * weighted / total if total else None
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=100_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    document = json.loads((ROOT / "assessments/data/default_questionnaire.json").read_text())
    structure = structure_from_document(document)
    rng = random.Random(2026)
    sets = answer_sets(structure, args.sets, rng)
    evidence = [
        [
            Evidence(f"e{i}", rng.randint(1, 5), rng.choice(["success", "mixed", "failure"]),
                     TODAY - timedelta(days=rng.randint(0, 3000)))
            for i in range(rng.randint(0, 3))
        ]
        for _ in range(len(sets))
    ]  # fmt: skip
    questions = sum(len(d.questions) for d in structure.dimensions)

    started = time.perf_counter()
    for answers, items in zip(sets, evidence, strict=True):
        score(structure, answers, items, today=TODAY)
    engine = time.perf_counter() - started
    baseline = plain_weighted_mean(structure, sets)

    print(f"default questionnaire: {len(structure.dimensions)} dimensions, {questions} questions")
    print(f"{'':28}{'seconds':>10}{'sets/s':>12}{'µs/set':>10}")
    for label, elapsed in (("scoring engine", engine), ("plain weighted mean", baseline)):
        rate = len(sets) / elapsed
        print(f"{label:28}{elapsed:10.2f}{rate:12,.0f}{1e6 / rate:10.1f}")
    print(f"engine / plain mean: {engine / baseline:.1f}×  (target: ≥ 20,000 sets/s)")


if __name__ == "__main__":
    main()
