"""What a dashboard shows, as types: the figures :func:`dashboards.selectors.portfolio`
returns, and each of their rows. The page, its CSV tables and the API read these fields;
a figure added here is added to all three (the API's serializers name the same fields).

Plain data only (numbers, strings, dates), frozen, so a figure cannot be changed on its
way to a template: frozen dataclasses, and named rows where a figure has many rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


class StandingCount(NamedTuple):
    """One group of the standings by level and quadrant, with the sums the tiles need
    (over the period's engagements) and how many of the group are at risk."""

    maturity_level: int | None
    quadrant: str | None
    n: int
    maturity_sum: float | None
    maturity_n: int
    defensiveness_sum: float | None
    defensiveness_n: int
    at_risk: int
    heard: int  # with a perception gap (the client's view), in the period
    gap_sum: float | None  # of the standings' mean maturity gaps, in points
    gap_n: int
    gap_wide: int  # with a maturity gap of a level or more either way


@dataclass(frozen=True)
class Tiles:
    active_clients: int
    assessed: int  # engagements assessed in the period
    average_maturity: float | None
    average_defensiveness: float | None
    guarded_novices: int
    guarded_share: float | None  # percent of the assessed
    overdue_actions: int
    # The client's view (docs/client-voice.md §4): engagements with a perception gap, the
    # mean of their maturity gaps in levels (positive: clients rate themselves higher than
    # we do), and how many have a maturity dimension a level or more apart.
    heard: int = 0
    average_gap: float | None = None
    wide_gaps: int = 0


@dataclass(frozen=True)
class LevelCount:
    level: int
    name: str
    engagements: int


@dataclass(frozen=True)
class QuadrantCount:
    quadrant: str
    engagements: int


class Point(NamedTuple):
    """An assessed engagement on the maturity × defensiveness chart (a named row: a
    dashboard draws 1,500 of them, and a frozen dataclass costs ~8 µs each to build)."""

    client: int
    name: str
    process_type: str
    maturity: float | None
    defensiveness: float | None
    quadrant: str | None


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM
    assessments: int
    average_maturity: float | None
    average_defensiveness: float | None


@dataclass(frozen=True)
class Column:
    """A dimension of the default questionnaire's current version, and the standings'
    column (slot) that holds its scores."""

    code: str
    kind: str
    name: str
    slot: int | None
    questionnaire: int


@dataclass(frozen=True)
class HeatCell:
    group: str  # a segment or an engagement type
    dimension: str
    kind: str
    average: float | None
    engagements: int
    gap: float | None = None  # the mean perception gap, in levels (client − supplier)
    heard: int = 0  # engagements with a gap on this dimension

    @property
    def gap_shade(self) -> str:
        """The gap's colour: ``up-N`` (the client sees itself higher) or ``down-N``, N
        half-levels (at most 4), ``even`` under a quarter of a level; a stylesheet class."""
        if self.gap is None:
            return ""
        steps = min(4, round(abs(self.gap) * 2))
        if not steps:
            return "even"
        return f"{'up' if self.gap > 0 else 'down'}-{steps}"

    @property
    def shade(self) -> int:
        """The cell's colour step (the average to the nearest 5, 0–100): a class of the
        stylesheet (``heat-v-55``), as the Content-Security-Policy allows no style in the
        page's markup."""
        return min(100, max(0, 5 * round((self.average or 0) / 5)))


@dataclass(frozen=True)
class AtRiskRow:
    engagement: int
    client: int
    name: str
    process_type: str
    owner: str
    maturity_level: int | None
    maturity: float | None
    change: float | None  # since the previous assessment
    defensiveness: float | None
    assessed_at: datetime
    reassessment_due: datetime | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AtRiskPage:
    items: tuple[AtRiskRow, ...]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class EffortRow:
    owner: int
    name: str
    done: int
    overdue: int
    open: int
    due: int
    completion_rate: float | None


@dataclass(frozen=True)
class EffortTotals:
    done: int
    overdue: int
    open: int
    due: int
    completion_rate: float | None


@dataclass(frozen=True)
class UpliftRow:
    action_type: str
    measured: int
    average_uplift: float | None
    average_maturity_change: float | None
    average_defensiveness_change: float | None


@dataclass(frozen=True)
class Figures:
    """Every figure of a dashboard."""

    refreshed_at: datetime | None  # the summaries' last rebuild
    tiles: Tiles
    levels: tuple[LevelCount, ...]
    quadrants: tuple[QuadrantCount, ...]
    scatter: tuple[Point, ...]
    trend: tuple[Month, ...]
    heatmap: tuple[HeatCell, ...]
    at_risk: AtRiskPage
    effort: tuple[EffortRow, ...]
    effort_totals: EffortTotals
    uplift: tuple[UpliftRow, ...]
    by: str  # the heatmap's rows: segment or process_type
    dimension_names: dict[str, str]
