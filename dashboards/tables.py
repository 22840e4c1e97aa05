"""Each dashboard table, defined once: its columns and its rows, for the page and its CSV.

A row is a list of cells; a cell is text, a number or None. The page prints the cells
(numbers in the reader's locale), the CSV writes the same cells, so a downloaded table
has exactly the rows the page shows — the at-risk list and the scatter in full, where the
page shows a page of them or the most recent points.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assessments.export import BOM, spreadsheet_safe
from assessments.labels import LEVELS, QUADRANTS
from clients.models import ProcessType, Segment
from dashboards import selectors
from dashboards.selectors import Scope
from education.models import ActionType

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str
    title: str | Promise
    columns: tuple[str | Promise, ...]
    rows: Callable[[dict[str, Any]], list[list[Cell]]]
    # Everything, for the CSV, when the page shows only part (None: the page's rows).
    everything: Callable[[Scope], dict[str, Any]] | None = None


def _day(moment: datetime | None) -> str:
    return timezone.localdate(moment).isoformat() if moment else ""


def labels(choices: type[models.TextChoices] | Mapping[str, Any]) -> Callable[[str], str]:
    """Code → label in the active language (from TextChoices or a code → label mapping),
    translated once per table, not per cell."""
    pairs = choices.items() if isinstance(choices, Mapping) else choices.choices
    names = {value: str(label) for value, label in pairs}
    return lambda value: names.get(value, value)


def level_label(level: int | None) -> str:
    return str(LEVELS.get(level or 0, ""))


def quadrant_label(quadrant: str) -> str:
    return str(QUADRANTS.get(quadrant, quadrant))


REASON_LABELS = {
    "low_maturity": _("Low maturity"),
    "high_defensiveness": _("High defensiveness"),
    "falling": _("Falling"),
    "reassessment_overdue": _("Reassessment overdue"),
}


def _levels(figures: dict[str, Any]) -> list[list[Cell]]:
    return [
        [row["level"], level_label(row["level"]), row["engagements"]] for row in figures["levels"]
    ]


def _quadrants(figures: dict[str, Any]) -> list[list[Cell]]:
    return [[quadrant_label(row["quadrant"]), row["engagements"]] for row in figures["quadrants"]]


def _scatter(figures: dict[str, Any]) -> list[list[Cell]]:
    process, quadrant = labels(ProcessType), labels(QUADRANTS)
    return [
        [
            p["name"],
            process(p["process_type"]),
            p["maturity"],
            p["defensiveness"],
            quadrant(p["quadrant"]),
        ]
        for p in figures["scatter"]
    ]


def _trend(figures: dict[str, Any]) -> list[list[Cell]]:
    return [
        [row["month"], row["assessments"], row["average_maturity"], row["average_defensiveness"]]
        for row in figures["trend"]
    ]


def _heatmap(figures: dict[str, Any]) -> list[list[Cell]]:
    label = labels(Segment if figures.get("by", "segment") == "segment" else ProcessType)
    names = figures.get("dimension_names", {})
    return [
        [
            label(cell["group"]),
            names.get(cell["dimension"], cell["dimension"]),
            cell["average"],
            cell["engagements"],
        ]
        for cell in figures["heatmap"]
    ]


def _at_risk(figures: dict[str, Any]) -> list[list[Cell]]:
    process = labels(ProcessType)
    reasons = {code: str(label) for code, label in REASON_LABELS.items()}
    return [
        [
            row["name"],
            process(row["process_type"]),
            row["owner"],
            row["maturity_level"],
            row["maturity"],
            row["change"],
            row["defensiveness"],
            _day(row["assessed_at"]),
            _day(row["reassessment_due"]),
            ", ".join(reasons[r] for r in row["reasons"]),
        ]
        for row in figures["at_risk"]["items"]
    ]


def _effort(figures: dict[str, Any]) -> list[list[Cell]]:
    return [
        [row["name"], row["done"], row["overdue"], row["open"], row["completion_rate"]]
        for row in figures["effort"]
    ]


def _uplift(figures: dict[str, Any]) -> list[list[Cell]]:
    action_type = labels(ActionType)
    return [
        [
            action_type(row["action_type"]),
            row["measured"],
            row["average_uplift"],
            row["average_maturity_change"],
            row["average_defensiveness_change"],
        ]
        for row in figures["uplift"]
    ]


TABLES = {
    table.name: table
    for table in (
        Table("levels", _("Maturity levels"), (_("Level"), _("Name"), _("Engagements")), _levels),
        Table("quadrants", _("Quadrants"), (_("Quadrant"), _("Engagements")), _quadrants),
        Table(
            "scatter",
            _("Maturity and defensiveness"),
            (_("Client"), _("Engagement type"), _("Maturity"), _("Defensiveness"), _("Quadrant")),
            _scatter,
            everything=lambda scope: {"scatter": selectors.scatter(scope, limit=None)},
        ),
        Table(
            "trend",
            _("Trend by month"),
            (_("Month"), _("Assessments"), _("Average maturity"), _("Average defensiveness")),
            _trend,
        ),
        Table(
            "heatmap",
            _("Dimensions by group"),
            (_("Group"), _("Dimension"), _("Average score"), _("Engagements")),
            _heatmap,
        ),
        Table(
            "at_risk",
            _("At risk"),
            (
                _("Client"),
                _("Engagement type"),
                _("Account manager"),
                _("Level"),
                _("Maturity"),
                pgettext_lazy("score difference", "Change"),
                _("Defensiveness"),
                _("Last assessed"),
                _("Reassessment due"),
                _("Why"),
            ),
            _at_risk,
            everything=lambda scope: {"at_risk": selectors.at_risk(scope, size=None)},
        ),
        Table(
            "effort",
            _("Education effort by account manager"),
            (_("Account manager"), _("Done"), _("Overdue"), _("Open"), _("Completion rate (%)")),
            _effort,
        ),
        Table(
            "uplift",
            _("Average uplift by action type"),
            (
                _("Action type"),
                _("Measured"),
                _("Average uplift"),
                _("Maturity change"),
                _("Defensiveness change"),
            ),
            _uplift,
        ),
    )
}


def table_figures(table: Table, scope: Scope) -> dict[str, Any]:
    """What ``table`` needs for its CSV: everything it lists, with the same filters."""
    if table.everything is not None:
        figures = table.everything(scope)
    elif table.name in ("levels", "quadrants"):
        levels, quadrants = selectors.levels_and_quadrants(selectors.standing_counts(scope))
        figures = {"levels": levels, "quadrants": quadrants}
    elif table.name == "heatmap":
        columns = selectors.dimensions()
        figures = {
            "heatmap": selectors.heatmap(scope, columns),
            "dimension_names": {c["code"]: c["name"] for c in columns},
        }
    else:
        figures = {table.name: getattr(selectors, table.name)(scope)}
    figures["by"] = scope.filters.by
    return figures


def csv_rows(table: Table, figures: dict[str, Any]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows(figures):
        writer.writerow([spreadsheet_safe("" if c is None else str(c)) for c in row])
    yield buffer.getvalue().encode()
