"""The questionnaire JSON format: validate, import and export a version.

One format serves the shipped default questionnaire, ``manage.py questionnaire_export`` /
``questionnaire_import`` and the directors' pages. :func:`problems_in` is pure (no
database): it walks a parsed document and returns every problem with the path to the bad
field (``dimensions[2].questions[0].levels[3].description.es``) and why, so a malformed
file is refused whole, with all its faults listed at once.

Document shape::

    {"format": "maturity-questionnaire", "format_version": 1,
     "questionnaire": {"code", "name": {en, pt-br, es}, "description": {…}},
     "notes": {…},
     "dimensions": [{"code", "kind": "maturity"|"defensiveness", "weight", "name",
                     "description", "questions": [
        {"code", "type": "scale"|"choice"|"yes_no"|"number"|"text", "weight", "reverse",
         "required", "allow_na", "text", "help",
         "levels": [{"value": 1…5, "label", "description"}],     # scale
         "options": [{"code", "score": 0…100, "label"}],          # choice
         "min", "max",                                            # number
         "client": {"text", "levels": [{"value", "label", "description"}]}}]}]}
                                                  # scale: also asked of the client

A question with ``client`` is asked of the client's own people too, in that wording and
with those levels, which must mean what the supplier's levels of the same value mean
(docs/client-voice.md).

What each type's keys must hold is checked by the type (assessments/question_types.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessments import question_types
from assessments.i18n import missing_languages
from assessments.scoring import DimensionSpec, QuestionSpec, Structure
from core import languages
from core.numbers import is_number

FORMAT = "maturity-questionnaire"
FORMAT_VERSION = 1
KINDS = ("maturity", "defensiveness")
CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
MAX_WEIGHT = 100


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path or "(document)", message))

    def mapping(self, value: Any, path: str) -> bool:
        if not isinstance(value, Mapping):
            self.add(path, "must be an object")
            return False
        return True

    def texts(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool) -> None:
        value = parent.get(key)
        if value is None or value == {}:
            if required:
                self.add(f"{path}.{key}", f"is required in {languages.listed()}")
            return
        if not isinstance(value, Mapping):
            self.add(f"{path}.{key}", f"must be an object with {languages.listed()} texts")
            return
        for code in missing_languages(value):
            self.add(f"{path}.{key}.{code}", "translation is missing")
        for code, text in value.items():
            if code in languages.codes() and text is not None and not isinstance(text, str):
                self.add(f"{path}.{key}.{code}", "must be text")
        for code in value:
            if code not in languages.codes():
                self.add(f"{path}.{key}.{code}", f"unknown language; use {languages.listed()}")

    def code(self, parent: Mapping[str, Any], path: str, seen: set[str]) -> None:
        code = parent.get("code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            self.add(f"{path}.code", "must be 1–60 lowercase letters, digits, - or _")
        elif code in seen:
            self.add(f"{path}.code", f"duplicate code {code!r}")
        else:
            seen.add(code)

    def weight(self, parent: Mapping[str, Any], path: str) -> None:
        weight = parent.get("weight", 1)
        if not is_number(weight, low=0, high=MAX_WEIGHT) or weight == 0:
            self.add(f"{path}.weight", f"must be a number greater than 0 and at most {MAX_WEIGHT}")

    def flag(self, parent: Mapping[str, Any], key: str, path: str) -> None:
        if key in parent and not isinstance(parent[key], bool):
            self.add(f"{path}.{key}", "must be true or false")


def problems_in(document: Any) -> list[Problem]:
    """Every problem in a questionnaire document; an empty list means it can be imported."""
    check = _Checker()
    if not check.mapping(document, ""):
        return check.problems
    if document.get("format") != FORMAT:
        check.add("format", f"must be {FORMAT!r}")
    if document.get("format_version") != FORMAT_VERSION:
        check.add("format_version", f"must be {FORMAT_VERSION}")
    questionnaire = document.get("questionnaire")
    if check.mapping(questionnaire, "questionnaire"):
        check.code(questionnaire, "questionnaire", set())
        check.texts(questionnaire, "name", "questionnaire", required=True)
        check.texts(questionnaire, "description", "questionnaire", required=False)
    check.texts(document, "notes", "", required=False)

    dimensions = document.get("dimensions")
    if not isinstance(dimensions, list) or not dimensions:
        check.add("dimensions", "must be a non-empty list")
        return check.problems
    dimension_codes: set[str] = set()
    question_codes: set[str] = set()
    kinds: set[str] = set()
    for d, dimension in enumerate(dimensions):
        path = f"dimensions[{d}]"
        if not check.mapping(dimension, path):
            continue
        check.code(dimension, path, dimension_codes)
        if dimension.get("kind") not in KINDS:
            check.add(f"{path}.kind", f"must be one of {', '.join(KINDS)}")
        else:
            kinds.add(dimension["kind"])
        check.weight(dimension, path)
        check.texts(dimension, "name", path, required=True)
        check.texts(dimension, "description", path, required=False)
        questions = dimension.get("questions")
        if not isinstance(questions, list) or not questions:
            check.add(f"{path}.questions", "must be a non-empty list")
            continue
        for q, question in enumerate(questions):
            _check_question(check, question, f"{path}.questions[{q}]", question_codes)
    if "maturity" not in kinds:
        check.add("dimensions", "at least one dimension must be of kind 'maturity'")
    return check.problems


def _check_question(check: _Checker, question: Any, path: str, seen: set[str]) -> None:
    if not check.mapping(question, path):
        return
    check.code(question, path, seen)
    kind = question.get("type")
    if not isinstance(kind, str) or kind not in question_types.TYPES:
        known = ", ".join(question_types.codes())
        check.add(f"{path}.type", f"unknown question type {kind!r}; use one of {known}")
    check.weight(question, path)
    for flag in ("reverse", "required", "allow_na"):
        check.flag(question, flag, path)
    check.texts(question, "text", path, required=True)
    check.texts(question, "help", path, required=False)
    if isinstance(kind, str) and kind in question_types.TYPES:
        question_types.get(kind).check(question, check, path)
    if "client" in question:
        _check_client_wording(check, question, kind, f"{path}.client")


# The types whose questions the client can be asked: anchored scales, whose levels the
# client wording restates level by level.
CLIENT_TYPES = ("scale",)


def _check_client_wording(
    check: _Checker, question: Mapping[str, Any], kind: Any, path: str
) -> None:
    client = question["client"]
    if not check.mapping(client, path):
        return
    if kind not in CLIENT_TYPES:
        check.add(
            path, f"only questions of type {', '.join(CLIENT_TYPES)} can be asked of the client"
        )
        return
    for key in client:
        if key not in ("text", "levels"):
            check.add(f"{path}.{key}", "unknown key; the client wording has text and levels")
    check.texts(client, "text", path, required=True)
    question_types.get(kind).check(client, check, path)


def structure_from_document(document: Mapping[str, Any]) -> Any:
    """The scoring engine's Structure for a (valid) questionnaire document."""
    return Structure(
        tuple(
            DimensionSpec(
                code=dimension["code"],
                kind=dimension["kind"],
                weight=float(dimension.get("weight", 1)),
                questions=tuple(
                    QuestionSpec(
                        code=question["code"],
                        type=question["type"],
                        weight=float(question.get("weight", 1)),
                        reverse=bool(question.get("reverse", False)),
                        required=bool(question.get("required", True)),
                        allow_na=bool(question.get("allow_na", False)),
                        options={o["code"]: float(o["score"]) for o in question.get("options", [])},
                        min=question.get("min"),
                        max=question.get("max"),
                    )
                    for question in dimension["questions"]
                ),
            )
            for dimension in document["dimensions"]
        )
    )
