"""The client report as a PDF, laid out with ReportLab on the server: the same
:class:`~dashboards.report.ClientReport` as the printable page, in the reader's language,
with vector charts that read in black and white (solid maturity, dashed defensiveness;
bars with their numbers printed beside them)."""

from __future__ import annotations

import io
import math
from datetime import timedelta
from typing import Any
from xml.sax.saxutils import escape

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dashboards.report import ClientReport, ClientView, DimensionLine, EngagementReport

INK = colors.HexColor("#212121")
GREY = colors.HexColor("#757575")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    styles = {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=18, spaceAfter=4),
        # A heading never ends a page: it goes over with what it heads.
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontSize=13, spaceBefore=10, keepWithNext=1
        ),
        "h3": ParagraphStyle(
            "h3", parent=base["Heading3"], fontSize=11, spaceBefore=6, keepWithNext=1
        ),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=9.5, leading=12.5),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=8, textColor=GREY),
    }
    for style in styles.values():
        style.splitLongWords = 1  # see _p
    return styles


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    """Free text as a paragraph: markup escaped, and a word wider than the column — a pasted
    link, 5,000 characters without a space — cut across lines rather than run off the page
    (``splitLongWords``: ReportLab's default, set in ``_styles`` as the report relies on it)."""
    return Paragraph(escape(str(text)), style)


def _number(value: float | None) -> str:
    """One decimal, rounded (number_format alone cuts), in the reader's locale."""
    return "–" if value is None else formats.number_format(round(value, 1), decimal_pos=1)


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "") + _number(value)


# A table row that cannot fit on one page stops the whole report with a LayoutError, and an
# outcome of 5,000 characters is taller than a page. So a cell taller than ROW_KEEP_HEIGHT
# is cut into pieces of PIECE_LINES lines, each in a row of its own with no padding or rule
# in between: the text reads on unbroken, and the table breaks between pieces as it does
# between any rows (the header repeated on the next page). A row up to ROW_KEEP_HEIGHT
# stays whole and, at the foot of a page, moves whole to the next one, as rows always did.
# (ReportLab 5.1's own splitInRow was tried: after splitting between rows it repeats the
# header mid-page above the long row; splitting in rows first, it cuts rows of a few lines
# at the foot of a page, or, given a minimum, refuses rows a little taller than a page.)
ROW_KEEP_HEIGHT = 60 * mm
PIECE_LINES = 4
CELL_PADDING = 6  # ReportLab's default left and right padding of a table cell, in points
_UNBOUNDED = 1e9  # a height to lay a paragraph out in full


def _pieces(cell: Any, width: float) -> list[Any]:
    """``cell`` as it goes down its column: whole, or cut if taller than ROW_KEEP_HEIGHT."""
    if not isinstance(cell, Paragraph):
        return [cell]
    width -= 2 * CELL_PADDING
    if cell.wrap(width, _UNBOUNDED)[1] <= ROW_KEEP_HEIGHT:
        return [cell]
    return _cut(cell, width)


def _cut(paragraph: Paragraph, width: float) -> list[Paragraph]:
    """``paragraph`` in pieces of PIECE_LINES lines, by halves: cutting one piece off at a
    time lays the rest out again each time, which for a text of many lines takes seconds."""
    leading = paragraph.style.leading
    lines = round(paragraph.wrap(width, _UNBOUNDED)[1] / leading)
    if lines <= PIECE_LINES:
        return [paragraph]
    top = PIECE_LINES * math.ceil(lines / PIECE_LINES / 2)
    parts = paragraph.split(width, (top + 0.5) * leading)
    if len(parts) != 2:  # not expected: ReportLab cuts any paragraph of two lines or more
        return [paragraph]
    return _cut(parts[0], width) + _cut(parts[1], width)


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    """A table with a header row; a long text cut into pieces (see ROW_KEEP_HEIGHT)."""
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    lines = [rows[0]]
    for row in rows[1:]:
        columns = [_pieces(cell, width) for cell, width in zip(row, widths, strict=True)]
        depth = max(len(pieces) for pieces in columns)
        first = len(lines)
        lines.extend([p[i] if i < len(p) else "" for p in columns] for i in range(depth))
        last = len(lines) - 1
        if depth > 1:  # one row to the eye
            style.append(("BOTTOMPADDING", (0, first), (-1, last - 1), 0))
            style.append(("TOPPADDING", (0, first + 1), (-1, last), 0))
        style.append(("LINEBELOW", (0, last), (-1, last), 0.25, GREY))
    table = Table(lines, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _label(text: str, limit: int = 40) -> str:
    """A chart label cut to fit beside its bar, saying so (the table below has it whole)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Bars per chart: a questionnaire may have any number of dimensions, and a drawing taller
# than a page cannot split, so a long list is drawn as several charts (40 fit a page).
CHART_BARS = 40


def _dimension_charts(report: EngagementReport) -> list[Drawing]:
    lines = [d for d in report.dimensions if d.score is not None]
    return [
        _dimension_chart(lines[start : start + CHART_BARS])
        for start in range(0, max(len(lines), 1), CHART_BARS)
    ]


def _dimension_chart(lines: list[DimensionLine]) -> Drawing:
    height = 14 * len(lines) + 30
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 62 * mm, 15
    chart.width, chart.height = 95 * mm, height - 25
    chart.data = [[d.score for d in reversed(lines)]]
    chart.categoryAxis.categoryNames = [_label(d.name) for d in reversed(lines)]
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#90a4ae")
    chart.bars[0].strokeColor = INK
    chart.barLabelFormat = _number
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 10
    drawing.add(chart)
    return drawing


def _trend_chart(report: EngagementReport, *, with_defensiveness: bool = True) -> Drawing | None:
    points = [a for a in report.trend if a.submitted_at]
    if len(points) < 2:
        return None
    first = points[0].submitted_at
    assert first is not None
    days = [((a.submitted_at - first).days if a.submitted_at else 0) for a in points]
    drawing = Drawing(170 * mm, 55 * mm)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 12 * mm, 12 * mm, 150 * mm, 38 * mm
    maturity = [
        (d, a.maturity_score)
        for d, a in zip(days, points, strict=True)
        if a.maturity_score is not None
    ]
    defensiveness = [
        (d, a.defensiveness_index)
        for d, a in zip(days, points, strict=True)
        if with_defensiveness and a.defensiveness_index is not None
    ]
    if len(maturity) < 2 and len(defensiveness) < 2:
        return None  # nothing to draw a line through (all scores empty)
    plot.data = [series for series in (maturity, defensiveness) if len(series) > 1]
    plot.lines[0].strokeColor = INK
    plot.lines[0].strokeWidth = 1.8
    plot.lines[0].symbol = makeMarker("FilledCircle", size=4)
    dashed = 1 if len(maturity) > 1 else 0  # the defensiveness line, wherever it is
    plot.lines[dashed].strokeColor = INK
    if len(defensiveness) > 1:
        plot.lines[dashed].strokeDashArray = [4, 3]
        plot.lines[dashed].symbol = makeMarker("Triangle", size=5)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 25
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = max(days) or 1
    plot.xValueAxis.labelTextFormat = lambda d: formats.date_format(
        timezone.localtime(first) + timedelta(days=d), "M Y"
    )
    plot.xValueAxis.labels.fontSize = 7
    plot.yValueAxis.labels.fontSize = 7
    drawing.add(plot)
    key = "● " + _("Maturity") + (("   ▲ - - " + _("Defensiveness")) if with_defensiveness else "")
    drawing.add(String(14 * mm, 2, key, fontSize=7.5))
    return drawing


def client_report_pdf(report: ClientReport) -> bytes:
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_("Client report") + f" – {report.client.name}",
        author="Maturity",
    )
    story: list[Any] = [
        _p(report.client.name, styles["title"]),
        _p(
            _("Maturity and education report, %(date)s")
            % {"date": formats.date_format(timezone.localtime(report.generated_at), "DATE_FORMAT")},
            styles["small"],
        ),
        Spacer(1, 4 * mm),
        _p(report.introduction, styles["body"]),
    ]
    if not report.assessed:
        story.append(_p(_("No assessment has been completed yet."), styles["body"]))
    for item in report.engagements:
        story.append(_p(item.engagement.get_process_type_display(), styles["h2"]))
        story.extend(_standing(report, item, styles))
        story.extend(_education(item, styles))
        if item.reassessment_due:
            due = formats.date_format(timezone.localtime(item.reassessment_due), "DATE_FORMAT")
            story.append(_p(_("Next assessment due: %(date)s") % {"date": due}, styles["small"]))
    document.build(story)
    return buffer.getvalue()


def _standing(
    report: ClientReport, item: EngagementReport, styles: dict[str, ParagraphStyle]
) -> list[Any]:
    """One engagement's latest result: level, scores, quadrant, dimensions and trend (the
    defensiveness and the quadrant only in the versions that show them)."""
    latest = item.latest
    if latest is None:
        return [_p(_("Not assessed yet."), styles["body"])]
    level = f"{latest.maturity_level} · {item.level_name}" if latest.maturity_level else "–"
    columns: list[tuple[str, str, float]] = [
        (_("Level"), level, 40),
        (_("Maturity"), _number(latest.maturity_score), 26),
    ]
    if report.shows_defensiveness:
        columns.append((_("Defensiveness"), _number(latest.defensiveness_index), 30))
    if report.shows_advice:
        columns.append((_("Quadrant"), item.quadrant_name, 42))
    columns.append((pgettext("score difference", "Change"), _signed(item.maturity_change), 26))
    story: list[Any] = [
        _table([[c[0] for c in columns], [c[1] for c in columns]], [c[2] * mm for c in columns])
    ]
    if report.shows_advice and item.quadrant_hint:
        story += [Spacer(1, 2 * mm), _p(item.quadrant_hint, styles["body"])]
    if item.dimensions:
        first, *more = _dimension_charts(item)
        story.append(_headed(_("Dimensions"), first, styles))
        story.extend(more)
        head = [_("Dimension"), _("Score"), _("Before"), pgettext("score difference", "Change")]
        rows = [
            [_p(d.name, styles["body"]), _number(d.score), _number(d.previous), _signed(d.change)]
            for d in item.dimensions
        ]
        story.append(_table([head, *rows], [90 * mm, 24 * mm, 24 * mm, 24 * mm]))
    if item.view is not None and item.view.lines:
        story.extend(_client_view(item.view, styles))
    trend = _trend_chart(item, with_defensiveness=report.shows_defensiveness)
    if trend is not None:
        story.append(_headed(_("Trend"), trend, styles))
    return story


def _client_view(view: ClientView, styles: dict[str, ParagraphStyle]) -> list[Any]:
    """The latest round of the client's view beside ours, worded for the reader."""
    rows = [
        [_p(line.name, styles["body"]), _number(line.theirs), _number(line.ours),
         _signed(line.difference)]
        for line in view.lines
    ]  # fmt: skip
    table = _table(
        [[_("Dimension"), view.theirs, _("Our view"), _("Difference")], *rows],
        [90 * mm, 24 * mm, 24 * mm, 24 * mm],
    )
    return [_headed(view.title, _p(view.intro, styles["small"]), styles), table]


def _education(item: EngagementReport, styles: dict[str, ParagraphStyle]) -> list[Any]:
    """What was done together on one engagement (and what came of it), and what is next."""
    if not (item.done or item.planned):
        return []
    story: list[Any] = []
    rows: list[list[Any]] = [[_("Action"), _("Done on"), _("Outcome")]]
    for action in item.done[:15]:
        done_on = (
            formats.date_format(timezone.localtime(action.completed_at), "SHORT_DATE_FORMAT")
            if action.completed_at
            else ""
        )
        rows.append(
            [
                _p(action.display_title, styles["body"]),
                done_on,
                _p(action.outcome or "", styles["body"]),
            ]
        )
    if len(rows) > 1:
        story.append(
            _headed(_("What we did together"), _table(rows, [60 * mm, 22 * mm, 80 * mm]), styles)
        )
    if item.average_uplift is not None:
        story.append(
            _p(
                _("Average change of the dimensions these actions targeted: %(uplift)s.")
                % {"uplift": _number(item.average_uplift)},
                styles["small"],
            )
        )
    if item.planned:
        planned = [
            [
                _p(action.display_title, styles["body"]),
                formats.date_format(action.due_date, "SHORT_DATE_FORMAT"),
            ]
            for action in item.planned[:15]
        ]
        table = _table([[_("Action"), _("Due")], *planned], [130 * mm, 32 * mm])
        story.append(_headed(_("Next steps"), table, styles))
    return story


def _headed(title: str, body: Flowable, styles: dict[str, ParagraphStyle]) -> KeepTogether:
    """A heading and what it heads on the same page (a table longer than a page still
    splits, its heading on the first page of it)."""
    return KeepTogether([_p(title, styles["h3"]), body])
