"""``{% data_table table %}``: a dashboard table (``dashboards.tables``) as HTML.

Rendered in Python rather than with nested template loops: a dashboard prints a few
thousand cells, and this is the same markup in a tenth of the time. Numbers are shown in
the reader's locale, thousands grouped; empty cells as an en dash.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from dashboards.figures import AtRiskRow
from dashboards.tables import REASON_LABELS

register = template.Library()


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, float):
        return number_format(value, decimal_pos=1, force_grouping=True)
    if isinstance(value, int):
        return number_format(value, force_grouping=True)
    return conditional_escape(value)


def _head(columns: Any) -> str:
    return "".join(str(format_html('<th scope="col">{}</th>', column)) for column in columns)


@register.simple_tag
def data_table(table: dict[str, Any]) -> SafeString:
    head = _head(table["columns"])
    rows = [
        "<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in table["rows"]
    ]
    if not rows:
        rows = [
            str(
                format_html(
                    '<tr><td colspan="{}" class="muted">{}</td></tr>',
                    len(table["columns"]),
                    _("Nothing to show."),
                )
            )
        ]
    link = format_html(
        '<p class="small"><a href="{}" download>{}</a></p>', table["export"], _("Download CSV")
    )
    return mark_safe(
        f'<div class="table-scroll"><table data-table="{conditional_escape(table["name"])}" '
        f'id="table-{conditional_escape(table["name"])}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{link}"
    )


@register.simple_tag
def filter_select(field: Any) -> SafeString:
    """A filter's label and ``<select>``, the chosen option selected (a tenth of the time
    of the form renderer's widget templates, which a dashboard pays on every request)."""
    value = field.value()
    if value in (None, ""):
        value = field.field.initial
    chosen = "" if value in (None, "") else str(value)
    options = "".join(
        str(
            format_html(
                '<option value="{}"{}>{}</option>',
                option,
                mark_safe(" selected") if str(option) == chosen else "",
                label,
            )
        )
        for option, label in field.field.choices
    )
    invalid = mark_safe(' aria-invalid="true"') if field.errors else ""
    return format_html(
        '<div><label for="{}">{}</label><select name="{}" id="{}"{}>{}</select></div>',
        field.id_for_label,
        field.label,
        field.html_name,
        field.id_for_label,
        invalid,
        mark_safe(options),
    )


@register.simple_tag
def at_risk_table(rows: list[tuple[AtRiskRow, list[Any]]], columns: Any) -> SafeString:
    """The at-risk table: the client's name links to its page; the rest as data_table."""
    base = reverse("clients:detail", args=[0])
    head = _head(columns)
    reasons = {code: conditional_escape(label) for code, label in REASON_LABELS.items()}
    body = []
    for item, row in rows:
        link = format_html(
            '<th scope="row"><a href="{}">{}</a></th>',
            base.replace("/0/", f"/{int(item.client)}/"),
            row[0],
        )
        # The reasons as tags, one per line when they wrap (the CSV joins them with commas).
        why = " ".join(f'<span class="tag">{reasons[code]}</span>' for code in item.reasons)
        cells = "".join(f"<td>{_cell(c)}</td>" for c in row[1:-1])
        body.append(f'<tr>{link}{cells}<td class="reasons">{why}</td></tr>')
    return mark_safe(
        '<div class="table-scroll"><table data-table="at_risk">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
