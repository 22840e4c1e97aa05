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
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from assessments.export import BOM, spreadsheet_safe
from assessments.labels import LEVELS, QUADRANTS
from clients.models import ProcessType, Segment
from dashboards import selectors
from dashboards.figures import (
    AtRiskPage,
    EffortRow,
    Figures,
    HeatCell,
    LevelCount,
    Month,
    Point,
    QuadrantCount,
    UpliftRow,
)
from dashboards.selectors import Scope
from education.models import ActionType

Cell = str | int | float | date | None


@dataclass(frozen=True)
class Table:
    """A table: its columns; what it lists, taken from the page's figures (``part``) or
    loaded whole for the CSV with the same filters (``load``: the at-risk list and the
    scatter in full, where the page shows a page of them or the most recent points); and
    that data as rows of cells."""

    name: str
    title: str | Promise
    columns: tuple[str | Promise, ...]
    part: Callable[[Figures], Any]
    load: Callable[[Scope], Any]
    rows: Callable[[Any], list[list[Cell]]]


class Heatmap(NamedTuple):
    """The heatmap's cells and what names them: the grouping and the dimensions."""

    cells: tuple[HeatCell, ...]
    by: str
    names: Mapping[str, str]


def _heatmap_of(scope: Scope) -> Heatmap:
    columns = selectors.dimensions()
    return Heatmap(
        selectors.heatmap(scope, columns), scope.filters.by, {c.code: c.name for c in columns}
    )


def _day(moment: datetime | None) -> date | None:
    """The local day of a moment: shown in the reader's format, written ISO in a CSV."""
    return timezone.localdate(moment) if moment else None


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


def _levels(levels: tuple[LevelCount, ...]) -> list[list[Cell]]:
    return [[row.level, level_label(row.level), row.engagements] for row in levels]


def _quadrants(quadrants: tuple[QuadrantCount, ...]) -> list[list[Cell]]:
    return [[quadrant_label(row.quadrant), row.engagements] for row in quadrants]


def _scatter(points: tuple[Point, ...]) -> list[list[Cell]]:
    process, quadrant = labels(ProcessType), labels(QUADRANTS)
    return [
        [p.name, process(p.process_type), p.maturity, p.defensiveness, quadrant(p.quadrant or "")]
        for p in points
    ]


def _trend(months: tuple[Month, ...]) -> list[list[Cell]]:
    return [
        [row.month, row.assessments, row.average_maturity, row.average_defensiveness]
        for row in months
    ]


def _heatmap(heatmap: Heatmap) -> list[list[Cell]]:
    label = labels(Segment if heatmap.by == "segment" else ProcessType)
    return [
        [
            label(cell.group),
            heatmap.names.get(cell.dimension, cell.dimension),
            cell.average,
            cell.engagements,
        ]
        for cell in heatmap.cells
    ]


def _at_risk(at_risk: AtRiskPage) -> list[list[Cell]]:
    process = labels(ProcessType)
    reasons = {code: str(label) for code, label in REASON_LABELS.items()}
    return [
        [
            row.name,
            process(row.process_type),
            row.owner,
            row.maturity_level,
            row.maturity,
            row.change,
            row.defensiveness,
            _day(row.assessed_at),
            _day(row.reassessment_due),
            ", ".join(reasons[r] for r in row.reasons),
        ]
        for row in at_risk.items
    ]


def _effort(effort: tuple[EffortRow, ...]) -> list[list[Cell]]:
    return [[row.name, row.done, row.overdue, row.open, row.completion_rate] for row in effort]


def _uplift(uplift: tuple[UpliftRow, ...]) -> list[list[Cell]]:
    action_type = labels(ActionType)
    return [
        [
            action_type(row.action_type),
            row.measured,
            row.average_uplift,
            row.average_maturity_change,
            row.average_defensiveness_change,
        ]
        for row in uplift
    ]


TABLES = {
    table.name: table
    for table in (
        Table(
            "levels",
            _("Maturity levels"),
            (_("Level"), _("Name"), _("Engagements")),
            lambda figures: figures.levels,
            lambda scope: selectors.levels_and_quadrants(selectors.standing_counts(scope))[0],
            _levels,
        ),
        Table(
            "quadrants",
            _("Quadrants"),
            (_("Quadrant"), _("Engagements")),
            lambda figures: figures.quadrants,
            lambda scope: selectors.levels_and_quadrants(selectors.standing_counts(scope))[1],
            _quadrants,
        ),
        Table(
            "scatter",
            _("Maturity and defensiveness"),
            (_("Client"), _("Engagement type"), _("Maturity"), _("Defensiveness"), _("Quadrant")),
            lambda figures: figures.scatter,
            lambda scope: selectors.scatter(scope, limit=None),
            _scatter,
        ),
        Table(
            "trend",
            _("Trend by month"),
            (_("Month"), _("Assessments"), _("Average maturity"), _("Average defensiveness")),
            lambda figures: figures.trend,
            selectors.trend,
            _trend,
        ),
        Table(
            "heatmap",
            _("Dimensions by group"),
            (_("Group"), _("Dimension"), _("Average score"), _("Engagements")),
            lambda figures: Heatmap(figures.heatmap, figures.by, figures.dimension_names),
            _heatmap_of,
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
            lambda figures: figures.at_risk,
            lambda scope: selectors.at_risk(scope, size=None),
            _at_risk,
        ),
        Table(
            "effort",
            _("Education effort by account manager"),
            (_("Account manager"), _("Done"), _("Overdue"), _("Open"), _("Completion rate (%)")),
            lambda figures: figures.effort,
            selectors.effort,
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
            lambda figures: figures.uplift,
            selectors.uplift,
            _uplift,
        ),
    )
}


def csv_rows(table: Table, data: Any) -> Iterator[bytes]:
    """The table as CSV, from what its ``load`` returned."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows(data):
        writer.writerow([spreadsheet_safe("" if c is None else str(c)) for c in row])
    yield buffer.getvalue().encode()
