"""Question types, registered once.

Each type is one :class:`QuestionType` subclass below and one template,
``templates/assessments/questions/<code>.html``, which renders it both in the form being
filled (``mode="fill"``) and in a version's description (``mode="describe"``). The spec
says, for its type:

- what a questionnaire document must give it (:meth:`QuestionType.check`) and which of its
  keys the :class:`~assessments.models.Question` row keeps (``fields``);
- how a form value is parsed (:meth:`parse`), why a value is not an answer (:meth:`error`);
- how an answer scores (:meth:`trait`, and :meth:`table` for the hot path when the
  answers are a small closed set), or that it is not scored (``scored = False``);
- how a stored answer is written in the CSV export (:meth:`cell`) and how it reads to a
  person, in their language (:meth:`shown`);
- what the demo seed answers (:meth:`demo`).

Nothing else in the product branches on a question's type: adding one is a class here, a
line in ``TYPES`` and its template. ``tests/test_question_types.py`` registers a
throwaway type and takes it from a document to a submitted, exported assessment.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessments.i18n import localized
from core.numbers import is_number, spreadsheet_number

if TYPE_CHECKING:
    from django.utils.functional import Promise

# The largest magnitude a number question's bounds may have.
MAX_NUMBER = 1e9


class InvalidAnswer(ValueError):
    """An answer the question cannot take (the engine's reason is in English, for logs
    and the API; :meth:`QuestionType.error` says it to a person)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class Question(Protocol):
    """What a type reads of a question: the engine's QuestionSpec and the model's row
    both qualify (the model names its bounds ``min_value``/``max_value``)."""

    code: str
    type: str
    options: Any


class Checker(Protocol):
    """The questionnaire document's checker (assessments.interchange)."""

    def add(self, path: str, message: str) -> None: ...
    def mapping(self, value: Any, path: str) -> bool: ...
    def code(self, item: Mapping[str, Any], path: str, seen: set[str]) -> None: ...
    def texts(self, item: Any, key: str, path: str, *, required: bool) -> None: ...


def _decoded(text: str | None) -> str:
    """A stored answer (its JSON text) as a cell, for the odd value a type's fast path
    does not take: yes/no for booleans, numbers as a spreadsheet reads them."""
    if text is None:
        return ""
    value = json.loads(text)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str) else spreadsheet_number(value)


def _number_cell(text: str | None) -> str:
    """A whole number is its own JSON text; anything else is decoded."""
    return text if text is not None and text.isdigit() else _decoded(text)


def _bounds(question: Any) -> tuple[float, float]:
    low = getattr(question, "min", None)
    if low is None:
        low = getattr(question, "min_value", None)
    high = getattr(question, "max", None)
    if high is None:
        high = getattr(question, "max_value", None)
    return float(low or 0.0), float(1.0 if high is None else high)


class QuestionType:
    code: ClassVar[str]
    label: ClassVar[str | Promise]
    scored: ClassVar[bool] = True
    # (document key, Question attribute) that this type carries beyond the common ones.
    fields: ClassVar[tuple[tuple[str, str], ...]] = ()

    @property
    def template(self) -> str:
        return f"assessments/questions/{self.code}.html"

    def check(self, question: Mapping[str, Any], check: Checker, path: str) -> None:
        """Add what is wrong with this type's part of a questionnaire document."""

    def parse(self, raw: str) -> Any:
        """A form value as the engine wants it; what cannot be parsed is passed on as
        text, so the check names the problem."""
        return raw

    def trait(self, question: Any, value: Any) -> float:
        """The answer's trait in [0, 1] before reverse scoring; InvalidAnswer if the
        question cannot take it."""
        raise InvalidAnswer(question.code, f"a {self.code} question is not scored")

    def table(self, question: Any) -> tuple[type, dict[Any, float]] | None:
        """(the answers' Python type, value → trait) when the answers are a small closed
        set; the scoring engine looks them up instead of calling :meth:`trait`."""
        return None

    def error(self, question: Any) -> str:
        """Why a value is not an answer to ``question``, for the person filling it."""
        return gettext("This is not a valid answer.")

    def invalid(self, question: Any, value: Any) -> str | None:
        """Why ``value`` cannot answer ``question``, or None."""
        try:
            self.trait(question, value)
        except InvalidAnswer:
            return self.error(question)
        return None

    def cell(self, text: str | None) -> str:
        """A stored answer (its JSON text) as a CSV cell."""
        return _decoded(text)

    def shown(self, question: Any, value: Any) -> str:
        """A stored answer as the assessor saw it, in the reader's language."""
        return str(value)

    def demo(self, question: Any, tendency: float, rng: random.Random) -> Any:
        """An answer for the demo seed, for a client whose tendency is ``tendency`` (1–5);
        None leaves it unanswered."""
        return None


class Scale(QuestionType):
    code = "scale"
    label = _("Anchored scale 1–5")
    fields = (("levels", "levels"),)

    def check(self, question: Mapping[str, Any], check: Checker, path: str) -> None:
        levels = question.get("levels")
        if not isinstance(levels, list) or len(levels) != 5:
            check.add(f"{path}.levels", "an anchored scale needs exactly 5 levels")
            return
        for i, level in enumerate(levels):
            level_path = f"{path}.levels[{i}]"
            if not check.mapping(level, level_path):
                continue
            if level.get("value") != i + 1:
                check.add(f"{level_path}.value", f"must be {i + 1}")
            check.texts(level, "label", level_path, required=True)
            check.texts(level, "description", level_path, required=True)

    def parse(self, raw: str) -> Any:
        return int(raw) if raw.isascii() and raw.isdigit() else raw

    def trait(self, question: Any, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise InvalidAnswer(question.code, "a scale answer is a whole number from 1 to 5")
        return (value - 1) / 4

    def table(self, question: Any) -> tuple[type, dict[Any, float]]:
        return int, {v: (v - 1) / 4 for v in range(1, 6)}

    def error(self, question: Any) -> str:
        return gettext("Choose a level from 1 to 5.")

    def cell(self, text: str | None) -> str:
        return _number_cell(text)

    def shown(self, question: Any, value: Any) -> str:
        for level in getattr(question, "levels", None) or []:
            if level.get("value") == value:
                return f"{value} · {localized(level.get('label'))}"
        return str(value)

    def demo(self, question: Any, tendency: float, rng: random.Random) -> Any:
        return max(1, min(5, round(rng.gauss(tendency, 0.8))))


class Choice(QuestionType):
    code = "choice"
    label = _("Single choice")
    fields = (("options", "options"),)

    def check(self, question: Mapping[str, Any], check: Checker, path: str) -> None:
        options = question.get("options")
        if not isinstance(options, list) or len(options) < 2:
            check.add(f"{path}.options", "a single choice needs at least 2 options")
            return
        codes: set[str] = set()
        for i, option in enumerate(options):
            option_path = f"{path}.options[{i}]"
            if not check.mapping(option, option_path):
                continue
            check.code(option, option_path, codes)
            if not is_number(option.get("score"), low=0, high=100):
                check.add(f"{option_path}.score", "must be a number from 0 to 100")
            check.texts(option, "label", option_path, required=True)

    def trait(self, question: Any, value: Any) -> float:
        try:
            return float(_scores(question)[value]) / 100
        except (KeyError, TypeError):
            raise InvalidAnswer(question.code, f"unknown option {value!r}") from None

    def table(self, question: Any) -> tuple[type, dict[Any, float]]:
        return str, {code: float(score) / 100 for code, score in _scores(question).items()}

    def error(self, question: Any) -> str:
        return gettext("Choose one of the options.")

    def cell(self, text: str | None) -> str:
        return _plain_string(text)  # the option's code

    def shown(self, question: Any, value: Any) -> str:
        options = question.options if isinstance(question.options, list) else []
        for option in options:
            if option.get("code") == value:
                return localized(option.get("label")) or str(value)
        return str(value)

    def demo(self, question: Any, tendency: float, rng: random.Random) -> Any:
        options = sorted(question.options, key=lambda o: o["score"])
        return options[min(len(options) - 1, int((tendency - 1) / 4 * len(options)))]["code"]


def _scores(question: Any) -> Mapping[str, float]:
    """A choice's option code → score, from the engine's mapping or the row's list."""
    options = question.options
    if isinstance(options, Mapping):
        return options
    return {o["code"]: o["score"] for o in options or []}


def _plain_string(text: str | None) -> str:
    if text is not None and len(text) > 1 and text[0] == '"' and "\\" not in text:
        return text[1:-1]
    return _decoded(text)


class YesNo(QuestionType):
    code = "yes_no"
    label = _("Yes / no")

    def parse(self, raw: str) -> Any:
        return {"yes": True, "no": False}.get(raw, raw)

    def trait(self, question: Any, value: Any) -> float:
        if not isinstance(value, bool):
            raise InvalidAnswer(question.code, "a yes/no answer is true or false")
        return 1.0 if value else 0.0

    def table(self, question: Any) -> tuple[type, dict[Any, float]]:
        return bool, {True: 1.0, False: 0.0}

    def error(self, question: Any) -> str:
        return gettext("Answer yes or no.")

    def cell(self, text: str | None) -> str:
        return {"true": "yes", "false": "no"}.get(text or "", "") or _decoded(text)

    def shown(self, question: Any, value: Any) -> str:
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        return str(value)

    def demo(self, question: Any, tendency: float, rng: random.Random) -> Any:
        return rng.random() < (tendency - 1) / 4


class Number(QuestionType):
    code = "number"
    label = _("Number")
    fields = (("min", "min_value"), ("max", "max_value"))

    def check(self, question: Mapping[str, Any], check: Checker, path: str) -> None:
        low: Any = question.get("min")
        high: Any = question.get("max")
        if not all(is_number(v, low=-MAX_NUMBER, high=MAX_NUMBER) for v in (low, high)):
            check.add(f"{path}.min", "a number question needs numeric min and max")
        elif not low < high:
            check.add(f"{path}.max", "must be greater than min")

    def parse(self, raw: str) -> Any:
        try:
            return float(raw.replace(",", "."))
        except ValueError:
            return raw

    def trait(self, question: Any, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidAnswer(question.code, "a number answer is a number")
        low, high = _bounds(question)
        if not low <= value <= high:
            raise InvalidAnswer(question.code, f"must be between {low:g} and {high:g}")
        return (value - low) / (high - low)

    def error(self, question: Any) -> str:
        low, high = _bounds(question)
        return gettext("Enter a number from %(low)g to %(high)g.") % {"low": low, "high": high}

    def cell(self, text: str | None) -> str:
        return _number_cell(text)

    def shown(self, question: Any, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        whole = isinstance(value, int) or float(value).is_integer()
        return formats.number_format(int(value) if whole else value, use_l10n=True)

    def demo(self, question: Any, tendency: float, rng: random.Random) -> Any:
        low, high = _bounds(question)
        return round(low + (high - low) * (tendency - 1) / 4, 1)


# The longest free-text answer (and evidence note) kept.
MAX_TEXT = 5000


class Text(QuestionType):
    code = "text"
    label = _("Free text (not scored)")
    scored = False

    def check(self, question: Mapping[str, Any], check: Checker, path: str) -> None:
        if question.get("reverse"):
            check.add(
                f"{path}.reverse", "a free-text question is not scored, so it cannot be reversed"
            )

    def invalid(self, question: Any, value: Any) -> str | None:
        if not isinstance(value, str):
            return gettext("Write the answer as text.")
        if len(value) > MAX_TEXT:
            return gettext("Keep the answer under %(limit)d characters.") % {"limit": MAX_TEXT}
        return None

    def cell(self, text: str | None) -> str:
        return _plain_string(text)

    def demo(self, question: Any, tendency: float, rng: random.Random) -> Any:
        return None if rng.random() < 0.5 else "Registrado na reunião mensal."


TYPES: dict[str, QuestionType] = {
    kind.code: kind for kind in (Scale(), Choice(), YesNo(), Number(), Text())
}


def get(code: str) -> QuestionType:
    """The type called ``code``; KeyError for an unknown one."""
    return TYPES[code]


def codes() -> tuple[str, ...]:
    return tuple(TYPES)


def choices() -> list[tuple[str, str]]:
    """The model field's choices, read when asked (a new type needs no migration)."""
    return [(kind.code, str(kind.label)) for kind in TYPES.values()]


__all__ = [
    "MAX_TEXT",
    "TYPES",
    "Choice",
    "InvalidAnswer",
    "Number",
    "QuestionType",
    "Scale",
    "Text",
    "YesNo",
    "choices",
    "codes",
    "get",
]
