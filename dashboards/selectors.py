"""The dashboards' figures: one function computes them, and the page, its CSV exports and
the API all show what it returns — one source of truth.

Everything is read from :class:`~dashboards.models.Standing` (each assessed engagement's
latest result and the one before), its dimension scores, the assessments (the trend) and
the education actions, narrowed by :class:`~dashboards.filters.Filters` and by who is
looking. The number of queries does not depend on the portfolio's size (a test holds it).

Scope: directors and administrators see the whole portfolio; an account manager only the
clients they own — on the portfolio endpoints too, whatever ``owner`` they ask for.
Only active clients count. The period keeps engagements whose latest assessment was
submitted in it — on the at-risk list also those whose reassessment is overdue, however
long ago they were assessed — the assessments of its months (the trend) and the actions
due in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import DIRECTORS, user_has_role
from assessments.i18n import localized
from assessments.models import Dimension, QuestionnaireVersion, VersionStatus
from assessments.perception import LEVEL_POINTS
from assessments.scoring import LEVEL_NAMES, Quadrant
from clients.models import Client, Engagement
from dashboards.figures import (
    AtRiskPage,
    AtRiskRow,
    Column,
    EffortRow,
    EffortTotals,
    Figures,
    HeatCell,
    LevelCount,
    Month,
    Point,
    QuadrantCount,
    StandingCount,
    Tiles,
    UpliftRow,
)
from dashboards.filters import DashboardFilterForm, Filters
from dashboards.models import (
    DimensionSlot,
    EffortCell,
    Standing,
    SummaryState,
    TrendCell,
    UpliftCell,
    gap_column,
    slot_column,
)
from dashboards.summaries import state, summaries_rebuild

# What puts an engagement on the at-risk list (any one of them).
LOW_MATURITY_LEVEL = 2  # level 1 or 2
HIGH_DEFENSIVENESS = 70.0
FALLING_POINTS = 5.0  # maturity down by at least this since the previous assessment
RISK_REASONS = ("low_maturity", "high_defensiveness", "falling", "reassessment_overdue")

SCATTER_LIMIT = 1500  # the most recently assessed; the CSV has them all
AT_RISK_PAGE_SIZE = 20


@dataclass(frozen=True)
class Scope:
    """Who is looking and at what: ``mine`` narrows to the user's own clients."""

    user: Any
    filters: Filters
    mine: bool = False
    now: datetime | None = None

    @property
    def own_only(self) -> bool:
        return self.mine or not getattr(self.user, "sees_whole_portfolio", False)

    @property
    def moment(self) -> datetime:
        return self.now or timezone.now()

    def attributes_q(self) -> Q:
        """Conditions on the filter attributes every projection and summary carries."""
        return self.client_q(owner="client_owner_id") & self.engagement_q()

    def client_q(self, *, owner: str = "owner_id") -> Q:
        """Conditions on the client's attributes (account manager, segment); ``owner``
        names the account manager's column. Nothing at all for a visitor or a
        deactivated user."""
        if not getattr(self.user, "is_authenticated", False) or not self.user.is_active:
            return Q(pk__in=[])
        q = Q()
        if self.own_only:
            q &= Q(**{owner: self.user.pk})
        if self.filters.owner:
            q &= Q(**{owner: self.filters.owner})
        if self.filters.segment:
            q &= Q(segment=self.filters.segment)
        return q

    def engagement_q(self) -> Q:
        """Conditions on the engagement's attributes (type, phase)."""
        q = Q()
        for name in ("process_type", "phase"):
            if value := getattr(self.filters, name):
                q &= Q(**{name: value})
        return q

    def cells_q(self) -> Q:
        """Conditions on the summaries: the coarse cells unless an engagement filter
        (type or phase) needs the fine ones."""
        fine = bool(self.filters.process_type or self.filters.phase)
        return self.attributes_q() & Q(fine=fine)

    def standings(self, *, any_time: bool = False) -> QuerySet[Standing]:
        """The standings in scope assessed in the period (``any_time``: whenever it was)."""
        rows = Standing.objects.filter(self.attributes_q(), client_active=True)
        in_period = self.in_period()
        if in_period is not None and not any_time:
            rows = rows.filter(in_period)
        return rows

    def in_period(self) -> Q | None:
        """Assessed in the period, as a condition on the standings (None: all time)."""
        since = self.filters.since(self.moment)
        return None if since is None else Q(submitted_at__gte=since)

    def at_risk_q(self) -> Q:
        """What puts a standing on the at-risk list. Any reason, for an engagement assessed
        in the period; an overdue reassessment whenever it was last assessed — the longer
        ago, the more it belongs on the list, so no period may hide it."""
        conditions = _risk_conditions(self.moment)
        any_risk = Q()
        for q in conditions.values():
            any_risk |= q
        in_period = self.in_period()
        if in_period is None:
            return any_risk
        return (in_period & any_risk) | conditions["reassessment_overdue"]


def scope_of(
    user: Any, params: Mapping[str, Any], *, mine: bool
) -> tuple[Scope, DashboardFilterForm]:
    """The dashboard a request asks for, from its GET parameters — the page, its CSV and
    the API all start here. The portfolio (``mine`` false) is for directors only. The
    form is returned bound, so a caller can report invalid filters; the scope keeps only
    the valid ones."""
    if not mine and not user_has_role(user, DIRECTORS):
        raise PermissionDenied(_("The portfolio dashboard is for directors."))
    form = DashboardFilterForm(params, with_owner=not mine)
    form.is_valid()
    return Scope(user=user, filters=form.filters(), mine=mine), form


def _risk_conditions(now: datetime) -> dict[str, Q]:
    return {
        "low_maturity": Q(maturity_level__lte=LOW_MATURITY_LEVEL),
        "high_defensiveness": Q(defensiveness_index__gte=HIGH_DEFENSIVENESS),
        "falling": Q(
            previous_maturity_score__isnull=False,
            maturity_score__lte=F("previous_maturity_score") - FALLING_POINTS,
        ),
        "reassessment_overdue": Q(reassess_due_at__lt=now),
    }


def standing_counts(scope: Scope) -> list[StandingCount]:
    """One pass over the standings, grouped by level and quadrant, with the sums the
    tiles need (over the period's) and how many are at risk (``Scope.at_risk_q``): the
    tiles, the level distribution, the quadrants and the at-risk total all come from it.
    One query."""
    in_period = scope.in_period()
    rows = (
        scope.standings(any_time=True)
        .values_list("maturity_level", "quadrant")
        .annotate(
            n=Count("pk", filter=in_period),
            maturity_sum=Sum("maturity_score", filter=in_period),
            maturity_n=Count("maturity_score", filter=in_period),
            defensiveness_sum=Sum("defensiveness_index", filter=in_period),
            defensiveness_n=Count("defensiveness_index", filter=in_period),
            at_risk=Count("pk", filter=scope.at_risk_q()),
            heard=Count("gap_round", filter=in_period),
            gap_sum=Sum("gap_mean", filter=in_period),
            gap_n=Count("gap_mean", filter=in_period),
            gap_wide=Count("pk", filter=_both(in_period, Q(gap_wide=True))),
        )
        .order_by()
    )
    return [StandingCount(*row) for row in rows]


def _both(first: Q | None, second: Q) -> Q:
    return second if first is None else first & second


def tiles(scope: Scope, counts: list[StandingCount], *, overdue_actions: int) -> Tiles:
    """Active clients, averages and the share of guarded novices. One query (and the
    standing counts)."""
    assessed = sum(row.n for row in counts)
    guarded = sum(row.n for row in counts if row.quadrant == Quadrant.GUARDED_NOVICE)
    return Tiles(
        active_clients=_active_clients(scope),
        assessed=assessed,
        average_maturity=_ratio(
            sum(r.maturity_sum or 0.0 for r in counts), sum(r.maturity_n for r in counts)
        ),
        average_defensiveness=_ratio(
            sum(r.defensiveness_sum or 0.0 for r in counts),
            sum(r.defensiveness_n for r in counts),
        ),
        guarded_novices=guarded,
        guarded_share=round(100 * guarded / assessed, 1) if assessed else None,
        overdue_actions=overdue_actions,
        heard=sum(r.heard for r in counts),
        average_gap=_ratio(
            sum(r.gap_sum or 0.0 for r in counts) / LEVEL_POINTS, sum(r.gap_n for r in counts)
        ),
        wide_gaps=sum(r.gap_wide for r in counts),
    )


def _active_clients(scope: Scope) -> int:
    """Active clients matching the filters, assessed or not (from the clients table):
    with an engagement filter, those with an engagement that matches it."""
    clients = Client.objects.filter(scope.client_q(), is_active=True)
    if engagement := scope.engagement_q():
        clients = clients.filter(
            Exists(Engagement.objects.filter(engagement, client_id=OuterRef("pk")))
        )
    return clients.count()


def levels_and_quadrants(
    counts: list[StandingCount],
) -> tuple[tuple[LevelCount, ...], tuple[QuadrantCount, ...]]:
    """How many engagements stand at each maturity level and in each quadrant."""
    by_level: dict[int, int] = {}
    by_quadrant: dict[str, int] = {}
    for row in counts:
        if row.maturity_level is not None:
            by_level[row.maturity_level] = by_level.get(row.maturity_level, 0) + row.n
        if row.quadrant:
            by_quadrant[row.quadrant] = by_quadrant.get(row.quadrant, 0) + row.n
    return (
        tuple(
            LevelCount(level, LEVEL_NAMES[level], by_level.get(level, 0))
            for level in sorted(LEVEL_NAMES)
        ),
        tuple(QuadrantCount(q.value, by_quadrant.get(q.value, 0)) for q in Quadrant),
    )


def scatter(scope: Scope, *, limit: int | None = SCATTER_LIMIT) -> tuple[Point, ...]:
    """Maturity × defensiveness, one point per assessed engagement, the most recently
    assessed first (``limit`` of them; None for all, as the CSV wants). One query."""
    rows = (
        scope.standings()
        .filter(maturity_score__isnull=False, defensiveness_index__isnull=False)
        .order_by("-submitted_at", "-engagement_id")
        .values_list(
            "client_id",
            "client_name",
            "process_type",
            "maturity_score",
            "defensiveness_index",
            "quadrant",
        )
    )
    if limit is not None:
        rows = rows[:limit]
    return tuple(
        Point(client_id, name, process_type, _round(maturity), _round(defensiveness), quadrant)
        for client_id, name, process_type, maturity, defensiveness, quadrant in rows
    )


def trend(scope: Scope) -> tuple[Month, ...]:
    """Average maturity and defensiveness of the assessments submitted each month, from
    the summary (as of its last rebuild). One query."""
    cells = TrendCell.objects.filter(scope.cells_q())
    since = scope.filters.since(scope.moment)
    if since is not None:
        cells = cells.filter(month__gte=timezone.localdate(since))
    months = (
        cells.values_list("month")
        .annotate(
            n=Sum("assessments"),
            maturity=Sum("maturity_sum"),
            maturity_n=Sum("maturity_n"),
            defensiveness=Sum("defensiveness_sum"),
            defensiveness_n=Sum("defensiveness_n"),
        )
        .order_by("month")
    )
    return tuple(
        Month(
            month=month.isoformat()[:7],
            assessments=n,
            average_maturity=_ratio(maturity, maturity_n),
            average_defensiveness=_ratio(defensiveness, defensiveness_n),
        )
        for month, n, maturity, maturity_n, defensiveness, defensiveness_n in months
    )


def dimensions() -> list[Column]:
    """The default questionnaire's dimensions in its current version, in order: code,
    kind, name (localised) and the Standing column (slot) holding its scores. One query."""
    current = (
        QuestionnaireVersion.objects.filter(
            questionnaire__is_default=True, status=VersionStatus.PUBLISHED
        )
        .order_by("questionnaire__code", "-number")
        .values("pk")[:1]
    )
    slot = DimensionSlot.objects.filter(
        questionnaire_id=OuterRef("version__questionnaire_id"), code=OuterRef("code")
    ).values("slot")[:1]
    rows = (
        Dimension.objects.filter(version_id=Subquery(current))
        .annotate(slot=Subquery(slot))
        .order_by("position", "id")
        .values_list("code", "kind", "name", "slot", "version__questionnaire_id")
    )
    return [
        Column(code, kind, localized(name), slot_number, questionnaire)
        for code, kind, name, slot_number, questionnaire in rows
    ]


def heatmap(scope: Scope, columns: list[Column] | None = None) -> tuple[HeatCell, ...]:
    """Average latest score per (segment or engagement type) × dimension, over the
    standings' dimension columns, with the mean perception gap of those with one (in
    levels). One query (``columns`` carry their slots)."""
    columns = dimensions() if columns is None else columns
    columns = [c for c in columns if c.slot]
    if not columns:
        return ()
    group = "segment" if scope.filters.by == "segment" else "process_type"
    aggregates: dict[str, Any] = {}
    for i, column in enumerate(columns):
        assert column.slot is not None  # kept above
        aggregates[f"a{i}"] = Avg(slot_column(column.slot))
        aggregates[f"n{i}"] = Count(slot_column(column.slot))
        aggregates[f"g{i}"] = Avg(gap_column(column.slot))
        aggregates[f"h{i}"] = Count(gap_column(column.slot))
    # Only engagements assessed with the questionnaire whose dimensions these are.
    rows = (
        scope.standings()
        .filter(questionnaire_id=columns[0].questionnaire)
        .values(group)
        .annotate(**aggregates)
        .order_by(group)
    )
    return tuple(
        HeatCell(
            row[group],
            column.code,
            column.kind,
            _round(row[f"a{i}"]),
            row[f"n{i}"],
            None if row[f"g{i}"] is None else _round(row[f"g{i}"] / LEVEL_POINTS),
            row[f"h{i}"],
        )
        for row in rows
        for i, column in enumerate(columns)
        if row[f"n{i}"]
    )


def _flagged(rows: QuerySet[Standing], now: datetime) -> QuerySet[Standing]:
    """``rows`` with a flag per risk reason, their sum, in the list's order."""
    flags = {
        f"is_{name}": Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())
        for name, q in _risk_conditions(now).items()
    }
    return (
        rows.annotate(**flags)
        .annotate(risk=sum((F(name) for name in flags), Value(0)))
        .order_by("-risk", F("maturity_score").asc(nulls_last=True), "engagement_id")
    )


def _at_risk_rows(scope: Scope) -> QuerySet[Standing]:
    return _flagged(scope.standings(any_time=True).filter(scope.at_risk_q()), scope.moment)


AT_RISK_FIELDS = (
    "engagement_id",
    "client_id",
    "client_name",
    "process_type",
    "client_owner__first_name",
    "client_owner__last_name",
    "client_owner__username",
    "maturity_level",
    "maturity_score",
    "previous_maturity_score",
    "defensiveness_index",
    "submitted_at",
    "reassess_due_at",
    *(f"is_{name}" for name in RISK_REASONS),
)


def at_risk(
    scope: Scope,
    *,
    page: int = 1,
    size: int | None = AT_RISK_PAGE_SIZE,
    total: int | None = None,
) -> AtRiskPage:
    """Engagements at risk, the most reasons first. A page takes one query, and one more
    for the total unless it is given (the standing counts have it); everything
    (``size=None``, the CSV) takes one."""
    rows = _at_risk_rows(scope)
    pages = 1
    if size is not None:
        if total is None:
            total = rows.count()
        pages = max(1, -(-total // size))
        page = min(max(1, page), pages)
        # The page is chosen on the standings alone (a subquery), then only its rows are
        # joined to their client and account manager: one round trip.
        ids = rows.values("pk")[(page - 1) * size : page * size]
        rows = _flagged(Standing.objects.filter(pk__in=Subquery(ids)), scope.moment)
    items = []
    for values in rows.values_list(*AT_RISK_FIELDS):
        row = dict(zip(AT_RISK_FIELDS, values, strict=True))
        first, last, username = (
            row["client_owner__first_name"],
            row["client_owner__last_name"],
            row["client_owner__username"],
        )
        maturity, previous = row["maturity_score"], row["previous_maturity_score"]
        items.append(
            AtRiskRow(
                engagement=row["engagement_id"],
                client=row["client_id"],
                name=row["client_name"],
                process_type=row["process_type"],
                owner=" ".join(p for p in (first, last) if p) or username,
                maturity_level=row["maturity_level"],
                maturity=_round(maturity),
                change=_round(maturity - previous)
                if maturity is not None and previous is not None
                else None,
                defensiveness=_round(row["defensiveness_index"]),
                assessed_at=row["submitted_at"],
                reassessment_due=row["reassess_due_at"],
                reasons=tuple(name for name in RISK_REASONS if row[f"is_{name}"]),
            )
        )
    return AtRiskPage(
        items=tuple(items),
        total=len(items) if size is None else (total or 0),
        page=page,
        pages=pages,
    )


def effort(scope: Scope) -> tuple[EffortRow, ...]:
    """Actions done and overdue per account manager, with the completion rate (done of
    those due by the day of the summary's rebuild). One query."""
    rows = (
        EffortCell.objects.filter(scope.cells_q(), period=scope.filters.period)
        .values_list("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(done=Sum("done"), overdue=Sum("overdue"), open=Sum("open"), due=Sum("due"))
        .order_by("owner__first_name", "owner__last_name", "owner__username", "owner_id")
    )
    return tuple(
        EffortRow(
            owner=owner_id,
            name=" ".join(p for p in (first, last) if p) or username,
            done=done,
            overdue=overdue,
            open=open_,
            due=due,
            completion_rate=_rate(done, due),
        )
        for owner_id, first, last, username, done, overdue, open_, due in rows
    )


def uplift(scope: Scope) -> tuple[UpliftRow, ...]:
    """Average uplift per action type, over the actions whose effect a later assessment
    measured. One query."""
    rows = (
        UpliftCell.objects.filter(scope.cells_q(), period=scope.filters.period)
        .values_list("action_type")
        .annotate(
            measured=Sum("measured"),
            uplift=Sum("uplift_sum"),
            maturity=Sum("maturity_sum"),
            maturity_n=Sum("maturity_n"),
            defensiveness=Sum("defensiveness_sum"),
            defensiveness_n=Sum("defensiveness_n"),
        )
    )
    result = [
        UpliftRow(
            action_type=action_type,
            measured=measured,
            average_uplift=_ratio(total, measured),
            average_maturity_change=_ratio(m_sum, m_n),
            average_defensiveness_change=_ratio(d_sum, d_n),
        )
        for action_type, measured, total, m_sum, m_n, d_sum, d_n in rows
    ]
    result.sort(key=lambda r: (-(r.average_uplift or 0.0), r.action_type))
    return tuple(result)


def portfolio(scope: Scope, *, at_risk_page: int = 1) -> Figures:
    """Every figure of a dashboard: ten queries, whatever the portfolio's size (a test
    holds both)."""
    summary = summary_state()
    effort_rows = effort(scope)
    done, overdue = sum(r.done for r in effort_rows), sum(r.overdue for r in effort_rows)
    due = sum(r.due for r in effort_rows)
    totals = EffortTotals(
        done=done,
        overdue=overdue,
        open=sum(r.open for r in effort_rows),
        due=due,
        completion_rate=_rate(done, due),
    )
    counts = standing_counts(scope)
    levels, quadrants = levels_and_quadrants(counts)
    columns = dimensions()
    return Figures(
        refreshed_at=summary.refreshed_at,
        tiles=tiles(scope, counts, overdue_actions=overdue),
        levels=levels,
        quadrants=quadrants,
        scatter=scatter(scope),
        trend=trend(scope),
        heatmap=heatmap(scope, columns),
        at_risk=at_risk(scope, page=at_risk_page, total=sum(r.at_risk for r in counts)),
        effort=effort_rows,
        effort_totals=totals,
        uplift=uplift(scope),
        by=scope.filters.by,
        dimension_names={c.code: c.name for c in columns},
    )


def summary_state() -> SummaryState:
    """The summaries' last rebuild; built now if they never were (a new database)."""
    return state() or summaries_rebuild(only_if_missing=True)


def _ratio(total: float | None, n: int | None) -> float | None:
    return _round(total / n) if n and total is not None else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _rate(done: int, due: int) -> float | None:
    """Done of due, in percent."""
    return round(100 * done / due, 1) if due else None
