"""The playbook's JSON document: what ``data/default_playbook.json`` and imports contain.

``check_playbook`` names every problem by its path (``templates.3.title``), so a director
or an operator fixing a file sees all of them at once, and nothing is half-imported.
"""

from __future__ import annotations

from typing import Any

from assessments.i18n import missing_languages
from core import languages
from education.models import ActionType, RuleKind

FORMAT = "maturity-playbook"
# A rule's numbers: scores and indexes run 0–100; a band's upper end is exclusive.
RULE_BOUNDS = (("threshold", 100), ("min_defensiveness", 100), ("max_defensiveness", 101))


def check_playbook(document: Any) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def problem(path: str, message: str) -> None:
        problems.setdefault(path, []).append(message)

    if not isinstance(document, dict) or document.get("format") != FORMAT:
        problem("format", f"must be {FORMAT!r}")
        return problems
    for key in ("code", "questionnaire"):
        if not isinstance(document.get(key), str) or not document.get(key):
            problem(key, "required text")
    if missing_languages(document.get("name")):
        problem("name", f"needs {languages.listed()}")
    templates = document.get("templates")
    codes: set[str] = set()
    if not isinstance(templates, list) or not templates:
        problem("templates", "a non-empty list")
        templates = []
    for i, item in enumerate(templates):
        path = f"templates.{i}"
        if not isinstance(item, dict):
            problem(path, "an object")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code:
            problem(f"{path}.code", "required text")
        elif code in codes:
            problem(f"{path}.code", "repeated")
        else:
            codes.add(code)
        if item.get("action_type") not in ActionType.values:
            problem(f"{path}.action_type", f"one of {', '.join(ActionType.values)}")
        if missing_languages(item.get("title")):
            problem(f"{path}.title", f"needs {languages.listed()}")
        recurrence, every = item.get("recurrence", "once"), item.get("every_weeks")
        if recurrence == "weekly":
            if not isinstance(every, int) or not 1 <= every <= 52:
                problem(f"{path}.every_weeks", "1 to 52 for a weekly recurrence")
        elif recurrence != "once" or every is not None:
            problem(f"{path}.recurrence", "'once' (without every_weeks) or 'weekly'")
        lead = item.get("lead_time_days", 14)
        if not isinstance(lead, int) or not 0 <= lead <= 365:
            problem(f"{path}.lead_time_days", "0 to 365")
        for key in ("audience", "target_dimensions"):
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problem(f"{path}.{key}", "a list of text")
    rules = document.get("rules")
    if not isinstance(rules, list):
        problem("rules", "a list")
        rules = []
    for i, rule in enumerate(rules):
        path = f"rules.{i}"
        if not isinstance(rule, dict):
            problem(path, "an object")
            continue
        if rule.get("template") not in codes:
            problem(f"{path}.template", "the code of a template above")
        kind = rule.get("kind")
        if kind not in RuleKind.values:
            problem(f"{path}.kind", f"one of {', '.join(RuleKind.values)}")
        elif kind == "weak_dimension" and (
            not rule.get("dimension_code") or not isinstance(rule.get("threshold"), int | float)
        ):
            problem(path, "a weak_dimension rule needs dimension_code and threshold")
        elif kind == "defensiveness_band" and not any(
            isinstance(rule.get(k), int | float) for k in ("min_defensiveness", "max_defensiveness")
        ):
            problem(path, "a defensiveness_band rule needs min_defensiveness or max_defensiveness")
        elif kind == "quadrant" and not rule.get("quadrant"):
            problem(f"{path}.quadrant", "required for a quadrant rule")
        elif kind == "phase" and not rule.get("phase"):
            problem(f"{path}.phase", "required for a phase rule")
        elif kind == "perception_gap":
            gap = rule.get("gap_levels")
            number = isinstance(gap, int | float) and not isinstance(gap, bool)
            if not (number and gap and -4 <= gap <= 4):
                problem(f"{path}.gap_levels", "a perception_gap rule needs -4 to 4, not 0")
        for key, top in RULE_BOUNDS:
            value = rule.get(key)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and not (number and 0 <= value <= top):
                problem(f"{path}.{key}", f"a number from 0 to {top}")
    return problems
