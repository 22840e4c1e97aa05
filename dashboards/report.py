"""The client report: one client's levels, dimensions, trend, plan and what was achieved,
as plain data for the printable page and the PDF (``dashboards.pdf``) alike — an
education piece the account manager hands to the client, in the reader's language.

Scoped like the client page: a client the user may not see is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments.i18n import localized
from assessments.labels import LEVELS, QUADRANT_HINTS, QUADRANTS
from assessments.models import Assessment
from assessments.selectors import client_page, submitted_in_order
from clients.models import Client, Engagement
from education import cadence
from education.models import ActionStatus, EducationAction
from voice.models import Round
from voice.selectors import RoundGaps, latest_heard
from voice.services import round_end


@dataclass
class DimensionLine:
    code: str
    name: str
    kind: str
    score: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.score is None or self.previous is None:
            return None
        return round(self.score - self.previous, 1)


@dataclass(frozen=True)
class ViewLine:
    """One dimension of the latest round of the client's view: the respondents' mean and
    ours, in levels (1–5), and the difference (theirs minus ours)."""

    name: str
    kind: str
    theirs: float | None
    ours: float | None
    difference: float | None
    wide: bool


@dataclass(frozen=True)
class ClientView:
    """The engagement's latest round with respondents, summarised (never who said what)."""

    closed_on: Any  # the round's end: its closing day, or when it was closed
    respondents: int
    lines: list[ViewLine]
    # Its heading, its opening sentence and its first column, worded for the reader
    # (the page and the PDF both print these).
    title: str = ""
    intro: str = ""
    theirs: str = ""


@dataclass
class EngagementReport:
    engagement: Engagement
    latest: Assessment | None
    previous: Assessment | None
    trend: list[Assessment]
    dimensions: list[DimensionLine] = field(default_factory=list)
    done: list[EducationAction] = field(default_factory=list)
    planned: list[EducationAction] = field(default_factory=list)
    view: ClientView | None = None

    @property
    def level_name(self) -> str:
        return str(LEVELS.get(self.latest.maturity_level or 0, "")) if self.latest else ""

    @property
    def quadrant_name(self) -> str:
        return str(QUADRANTS.get(self.latest.quadrant, "")) if self.latest else ""

    @property
    def quadrant_hint(self) -> str:
        return str(QUADRANT_HINTS.get(self.latest.quadrant, "")) if self.latest else ""

    @property
    def maturity_change(self) -> float | None:
        if not (self.latest and self.previous):
            return None
        if self.latest.maturity_score is None or self.previous.maturity_score is None:
            return None
        return round(self.latest.maturity_score - self.previous.maturity_score, 1)

    @property
    def reassessment_due(self) -> datetime | None:
        if not self.latest or not self.latest.submitted_at:
            return None
        return cadence.due_at(self.latest.submitted_at, self.latest.maturity_level)

    @property
    def average_uplift(self) -> float | None:
        measured = [a.uplift for a in self.done if a.uplift is not None]
        return round(sum(measured) / len(measured), 1) if measured else None

    def trend_svg(self, width: int = 640, height: int = 180) -> dict[str, Any]:
        """Polylines of maturity and defensiveness over time (drawn on the server, so the
        printed page and the PDF need no script)."""
        points = [a for a in self.trend if a.submitted_at]
        pad = 24
        if not points:
            return {"maturity": "", "defensiveness": "", "width": width, "height": height}
        first, last = points[0].submitted_at, points[-1].submitted_at
        assert first is not None
        assert last is not None
        span = (last - first).total_seconds() or 1.0

        def xy(a: Assessment, value: float | None) -> str | None:
            if value is None or a.submitted_at is None:
                return None
            offset = (a.submitted_at - first).total_seconds()
            x = pad + (width - 2 * pad) * (offset / span if len(points) > 1 else 0.5)
            y = pad / 2 + (height - pad) * (1 - value / 100)
            return f"{x:.1f},{y:.1f}"

        return {
            "maturity": " ".join(p for a in points if (p := xy(a, a.maturity_score))),
            "defensiveness": " ".join(p for a in points if (p := xy(a, a.defensiveness_index))),
            "width": width,
            "height": height,
            "grid": [
                {"y": round(pad / 2 + (height - pad) * (1 - v / 100), 1), "label": v}
                for v in (0, 50, 100)
            ],
        }


class Audience:
    """Who a report is written for. The client's version speaks to the client: no advice
    meant for the team, and no defensiveness (how guarded the client is) unless a director
    chooses to include it. The team's version has everything."""

    CLIENT = "client"
    TEAM = "team"


@dataclass
class ClientReport:
    client: Client
    generated_at: datetime
    engagements: list[EngagementReport]
    audience: str = Audience.CLIENT
    with_defensiveness: bool = False

    @property
    def for_client(self) -> bool:
        return self.audience == Audience.CLIENT

    @property
    def shows_defensiveness(self) -> bool:
        return not self.for_client or self.with_defensiveness

    @property
    def shows_advice(self) -> bool:
        """The quadrant and what to do about it: the team's reading of the client."""
        return not self.for_client

    @property
    def introduction(self) -> str:
        """The report's opening sentence, worded for its reader."""
        if self.for_client:
            return _(
                "Where your organisation stands as a buyer of outsourcing, how that has "
                "developed, what we have done together and what comes next."
            )
        return _(
            "How mature you are as a buyer of outsourcing, how guarded earlier experiences "
            "have left you, and what we are doing together to improve both."
        )

    @property
    def options(self) -> str:
        """The query string that asks for this version again (the PDF link uses it)."""
        parts = [] if self.for_client else [f"audience={self.audience}"]
        if self.for_client and self.with_defensiveness:
            parts.append("defensiveness=1")
        return "&".join(parts)

    @property
    def assessed(self) -> list[EngagementReport]:
        return [e for e in self.engagements if e.latest is not None]

    @property
    def done_count(self) -> int:
        return sum(len(e.done) for e in self.engagements)

    @property
    def planned_count(self) -> int:
        return sum(len(e.planned) for e in self.engagements)


def client_report(
    *, user: Any, pk: int, audience: str = Audience.CLIENT, with_defensiveness: bool = False
) -> ClientReport:
    """The report of client ``pk`` as ``user`` may see it (404 otherwise), written for
    ``audience``. Eight queries (four for the client's view)."""
    client = client_page(user=user, pk=pk)
    engagements = list(client.engagements.all())
    counted = {engagement.pk: submitted_in_order(engagement) for engagement in engagements}
    latest_ids = [rows[-1].pk for rows in counted.values() if rows]
    previous_ids = [rows[-2].pk for rows in counted.values() if len(rows) > 1]
    snapshots = dict(
        Assessment.objects.filter(pk__in=latest_ids + previous_ids).values_list("pk", "result")
    )
    actions: dict[int, list[EducationAction]] = {}
    for action in (
        EducationAction.objects.filter(client=client)
        .select_related("template")
        .order_by("due_date", "id")
    ):
        actions.setdefault(action.engagement_id, []).append(action)
    heard = latest_heard(Round.objects.filter(engagement__in=engagements))
    reports = []
    for engagement in engagements:
        rows = counted[engagement.pk]
        latest = rows[-1] if rows else None
        previous = rows[-2] if len(rows) > 1 else None
        report = EngagementReport(
            engagement=engagement, latest=latest, previous=previous, trend=rows
        )
        if latest is not None:
            before = (
                {
                    d["code"]: d.get("score")
                    for d in (snapshots.get(previous.pk) or {}).get("dimensions", [])
                }
                if previous
                else {}
            )
            report.dimensions = [
                DimensionLine(
                    code=d["code"],
                    name=localized(d.get("name")) or d["code"],
                    kind=d.get("kind", ""),
                    score=None if d.get("score") is None else round(d["score"], 1),
                    previous=None if before.get(d["code"]) is None else round(before[d["code"]], 1),
                )
                for d in (snapshots.get(latest.pk) or {}).get("dimensions", [])
            ]
        for action in actions.get(engagement.pk, []):
            if action.status == ActionStatus.DONE:
                report.done.append(action)
            elif action.status == ActionStatus.PLANNED:
                report.planned.append(action)
        report.done.sort(key=lambda a: a.completed_at or timezone.now(), reverse=True)
        if engagement.pk in heard:
            report.view = _client_view(*heard[engagement.pk])
        reports.append(report)
    whole = ClientReport(
        client=client,
        generated_at=timezone.now(),
        engagements=reports,
        audience=audience,
        with_defensiveness=with_defensiveness,
    )
    if not whole.shows_defensiveness:
        for item in reports:
            item.dimensions = [d for d in item.dimensions if d.kind == "maturity"]
            if item.view is not None:
                lines = [line for line in item.view.lines if line.kind == "maturity"]
                item.view = replace(item.view, lines=lines)
    for item in reports:
        if item.view is not None:
            item.view = _worded(item.view, for_client=whole.for_client)
    return whole


def _worded(view: ClientView, *, for_client: bool) -> ClientView:
    day = formats.date_format(view.closed_on, "DATE_FORMAT")
    if for_client:
        intro = ngettext(
            "%(n)s person in your organisation answered our short questionnaire (round "
            "closing %(day)s). Beside our own assessment is the mean of the answers, in "
            "levels from 1 to 5.",
            "%(n)s people in your organisation answered our short questionnaire (round "
            "closing %(day)s). Beside our own assessment is the mean of their answers, in "
            "levels from 1 to 5.",
            view.respondents,
        ) % {"n": view.respondents, "day": day}
        return replace(
            view,
            title=_("Your view and ours"),
            intro=intro
            + " "
            + _(
                "Where the two differ by a level or more, it is worth talking it through together."
            ),
            theirs=_("Your view"),
        )
    intro = ngettext(
        "%(n)s respondent of the client (round closing %(day)s); levels 1 to 5; a positive "
        "difference means the client sees itself higher than we do.",
        "%(n)s respondents of the client (round closing %(day)s); levels 1 to 5; a positive "
        "difference means the client sees itself higher than we do.",
        view.respondents,
    ) % {"n": view.respondents, "day": day}
    return replace(
        view, title=_("The client's view and ours"), intro=intro, theirs=_("Client's view")
    )


def _client_view(round: Round, gaps: RoundGaps) -> ClientView:
    return ClientView(
        closed_on=timezone.localdate(round_end(round)),
        respondents=gaps.respondents,
        lines=[
            ViewLine(
                name=localized(row.name) or row.code,
                kind=row.kind,
                theirs=row.client_level,
                ours=row.supplier_level,
                difference=row.levels,
                wide=row.wide,
            )
            for row in [*gaps.maturity, *gaps.practices]
            if row.client_level is not None
        ],
    )
