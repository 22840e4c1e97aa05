"""The client report as a PDF, laid out with ReportLab on the server: the same
:class:`~dashboards.report.ClientReport` as the printable page, in the reader's language,
with vector charts that read in black and white (solid maturity, dashed defensiveness;
bars with their numbers printed beside them)."""

from __future__ import annotations

import io
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
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dashboards.report import ClientReport, EngagementReport

INK = colors.HexColor("#212121")
GREY = colors.HexColor("#757575")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=18, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontSize=13, spaceBefore=10),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontSize=11, spaceBefore=6),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=9.5, leading=12.5),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontSize=8, textColor=GREY),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _number(value: float | None) -> str:
    """One decimal, rounded (number_format alone cuts), in the reader's locale."""
    return "–" if value is None else formats.number_format(round(value, 1), decimal_pos=1)


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    return ("+" if value > 0 else "") + _number(value)


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, GREY),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _dimension_chart(report: EngagementReport) -> Drawing:
    lines = [d for d in report.dimensions if d.score is not None]
    height = 14 * len(lines) + 30
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 62 * mm, 15
    chart.width, chart.height = 95 * mm, height - 25
    chart.data = [[d.score for d in reversed(lines)]]
    chart.categoryAxis.categoryNames = [d.name[:40] for d in reversed(lines)]
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


def _trend_chart(report: EngagementReport) -> Drawing | None:
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
        if a.defensiveness_index is not None
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
    drawing.add(
        String(14 * mm, 2, "● " + _("Maturity") + "   ▲ - - " + _("Defensiveness"), fontSize=7.5)
    )
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
        _p(
            _(
                "How mature you are as a buyer of outsourcing, how guarded earlier experiences "
                "have left you, and what we are doing together to improve both."
            ),
            styles["body"],
        ),
    ]
    if not report.assessed:
        story.append(_p(_("No assessment has been completed yet."), styles["body"]))
    for item in report.engagements:
        engagement = item.engagement
        story.append(_p(engagement.get_process_type_display(), styles["h2"]))
        latest = item.latest
        if latest is None:
            story.append(_p(_("Not assessed yet."), styles["body"]))
        else:
            change = item.maturity_change
            story.append(
                _table(
                    [
                        [
                            _("Level"),
                            _("Maturity"),
                            _("Defensiveness"),
                            _("Quadrant"),
                            pgettext("score difference", "Change"),
                        ],
                        [
                            f"{latest.maturity_level} · {item.level_name}"
                            if latest.maturity_level
                            else "–",
                            _number(latest.maturity_score),
                            _number(latest.defensiveness_index),
                            item.quadrant_name,
                            _signed(change),
                        ],
                    ],
                    [40 * mm, 26 * mm, 30 * mm, 42 * mm, 26 * mm],
                )
            )
            if item.quadrant_hint:
                story.append(Spacer(1, 2 * mm))
                story.append(_p(item.quadrant_hint, styles["body"]))
            if item.dimensions:
                story.append(_p(_("Dimensions"), styles["h3"]))
                story.append(_dimension_chart(item))
                story.append(
                    _table(
                        [
                            [
                                _("Dimension"),
                                _("Score"),
                                _("Before"),
                                pgettext("score difference", "Change"),
                            ]
                        ]
                        + [
                            [
                                Paragraph(escape(d.name), styles["body"]),
                                _number(d.score),
                                _number(d.previous),
                                _signed(d.change),
                            ]
                            for d in item.dimensions
                        ],
                        [90 * mm, 24 * mm, 24 * mm, 24 * mm],
                    )
                )
            trend = _trend_chart(item)
            if trend is not None:
                story.append(KeepTogether([_p(_("Trend"), styles["h3"]), trend]))
        if item.done or item.planned:
            story.append(_p(_("What we did together"), styles["h3"]))
            rows = [[_("Action"), _("Done on"), _("Outcome")]]
            for action in item.done[:15]:
                rows.append(
                    [
                        Paragraph(escape(action.display_title), styles["body"]),
                        formats.date_format(
                            timezone.localtime(action.completed_at), "SHORT_DATE_FORMAT"
                        )
                        if action.completed_at
                        else "",
                        Paragraph(escape(action.outcome or ""), styles["body"]),
                    ]
                )
            if len(rows) > 1:
                story.append(_table(rows, [60 * mm, 22 * mm, 80 * mm]))
            if item.average_uplift is not None:
                story.append(
                    _p(
                        _("Average change of the dimensions these actions targeted: %(uplift)s.")
                        % {"uplift": _number(item.average_uplift)},
                        styles["small"],
                    )
                )
            if item.planned:
                story.append(_p(_("Next steps"), styles["h3"]))
                story.append(
                    _table(
                        [[_("Action"), _("Due")]]
                        + [
                            [
                                Paragraph(escape(action.display_title), styles["body"]),
                                formats.date_format(action.due_date, "SHORT_DATE_FORMAT"),
                            ]
                            for action in item.planned[:15]
                        ],
                        [130 * mm, 32 * mm],
                    )
                )
        if item.reassessment_due:
            story.append(
                _p(
                    _("Next assessment due: %(date)s")
                    % {
                        "date": formats.date_format(
                            timezone.localtime(item.reassessment_due), "DATE_FORMAT"
                        )
                    },
                    styles["small"],
                )
            )
    document.build(story)
    return buffer.getvalue()
