"""The dashboards: the directors' portfolio and each account manager's own clients.

One view serves both; ``mine`` narrows it to the user's clients and drops the account
manager filter. Filters are plain GET parameters, so a view can be shared by its URL;
htmx swaps the body in place and pushes the URL. Every table downloads as CSV with the
same filters (``export``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import DIRECTORS, AuthenticatedHttpRequest, user_has_role
from accounts.models import SecurityEventKind
from accounts.services import security_event_record
from clients.models import ProcessType, Segment
from core.htmx import is_htmx
from dashboards import selectors
from dashboards.figures import AtRiskPage, Figures, HeatCell
from dashboards.filters import page_number
from dashboards.report import Audience, client_report
from dashboards.tables import TABLES, csv_rows, labels, level_label, quadrant_label


@login_required
@require_GET
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The dashboard for the user's role."""
    if user_has_role(request.user, DIRECTORS):
        return redirect("dashboards:portfolio")
    return redirect("dashboards:mine")


@login_required
@require_GET
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _dashboard(request, mine=False)


@login_required
@require_GET
def mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _dashboard(request, mine=True)


def _page(request: AuthenticatedHttpRequest) -> int:
    """The at-risk page asked for; anything but a plain number is page 1."""
    return page_number(request.GET.get("page", "1")) or 1


# The tables the page prints as they are; the scatter and the heatmap it draws (a chart, a
# grid) and the at-risk list it links, so their rows are built for the CSV only.
PAGE_TABLES = ("levels", "quadrants", "trend", "effort", "uplift")


def _dashboard(request: AuthenticatedHttpRequest, *, mine: bool) -> HttpResponse:
    scope, form = selectors.scope_of(request.user, request.GET, mine=mine)
    query = urlencode(scope.filters.as_query())
    here = reverse("dashboards:mine" if mine else "dashboards:portfolio")
    if request.GET.get("part") == "at_risk":
        at_risk = selectors.at_risk(scope, page=_page(request))
        table = _at_risk_table(at_risk)
        context = {
            "at_risk": at_risk,
            "at_risk_rows": list(zip(at_risk.items, table["rows"], strict=True)),
            "t": {"at_risk": table},
            **_links(here, query, mine),
        }
        return render(request, "dashboards/dashboard.html#at-risk", context)
    figures = selectors.portfolio(scope, at_risk_page=_page(request))
    links = _links(here, query, mine)
    at_risk_table = _at_risk_table(figures.at_risk)
    context = {
        "form": form,
        "form_errors": [
            (form.fields[name].label if name in form.fields else name, errors)
            for name, errors in form.errors.items()
        ],
        "mine": mine,
        "figures": figures,
        "t": {
            name: {
                "name": name,
                "columns": table.columns,
                "rows": table.rows(table.part(figures)),
                "export": links["export_url"][name],
            }
            for name, table in TABLES.items()
            if name in PAGE_TABLES
        }
        | {"at_risk": at_risk_table},
        "at_risk": figures.at_risk,
        "at_risk_rows": list(zip(figures.at_risk.items, at_risk_table["rows"], strict=True)),
        "charts": _charts(figures),
        "heatmap": _heatmap_grid(figures),
        **links,
    }
    # htmx wants the body; a history restore (the page left htmx's cache) the whole page.
    partial = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    template = "dashboards/dashboard.html#body" if partial else "dashboards/dashboard.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _at_risk_table(at_risk: AtRiskPage) -> dict[str, Any]:
    """The at-risk table's columns and rows (the rows the CSV writes), built once; the
    page pairs each row with its item for the client link."""
    table = TABLES["at_risk"]
    return {"name": table.name, "columns": table.columns, "rows": table.rows(at_risk)}


def _links(here: str, query: str, mine: bool) -> dict[str, Any]:
    export = reverse("dashboards:mine_export" if mine else "dashboards:export", args=["TABLE"])
    return {
        "here": here,
        "query": query,
        "export_url": {
            name: export.replace("TABLE", name) + (f"?{query}" if query else "") for name in TABLES
        },
    }


def _charts(figures: Figures) -> dict[str, Any]:
    """What the vendored Chart.js draws; the tables on the page hold the same numbers."""
    process = labels(ProcessType)
    return {
        "levels": {
            "labels": [f"{r.level} · {level_label(r.level)}" for r in figures.levels],
            "values": [r.engagements for r in figures.levels],
            "label": _("Engagements"),
        },
        "scatter": {
            "points": [
                [p.maturity, p.defensiveness, p.client, f"{p.name} ({process(p.process_type)})"]
                for p in figures.scatter
            ],
            "x": _("Maturity"),
            "y": _("Defensiveness"),
            "url": reverse("clients:detail", args=[0]),
            "quadrants": [
                quadrant_label(q)
                for q in ("open_novice", "guarded_novice", "demanding_expert", "strategic_partner")
            ],
        },
        "trend": {
            "labels": [r.month for r in figures.trend],
            "maturity": [r.average_maturity for r in figures.trend],
            "defensiveness": [r.average_defensiveness for r in figures.trend],
            "maturity_label": _("Average maturity"),
            "defensiveness_label": _("Average defensiveness"),
        },
    }


def _heatmap_grid(figures: Figures) -> dict[str, Any]:
    """The heatmap as a grid: a row per group, a column per dimension."""
    names = figures.dimension_names
    label = labels(Segment if figures.by == "segment" else ProcessType)
    dimensions: list[str] = []
    groups: dict[str, dict[str, HeatCell]] = {}
    for cell in figures.heatmap:
        if cell.dimension not in dimensions:
            dimensions.append(cell.dimension)
        groups.setdefault(cell.group, {})[cell.dimension] = cell
    ordered = sorted(groups.items(), key=lambda item: label(item[0]))
    rows = [
        {"label": label(group), "cells": [cells.get(code) for code in dimensions]}
        for group, cells in ordered
    ]
    # The perception gap's grid: the dimensions and groups some client's view reached,
    # maturity first, then the ways of working the client is asked about neutrally.
    kinds = {cell.dimension: cell.kind for cell in figures.heatmap}
    heard = {cell.dimension for cell in figures.heatmap if cell.heard}
    gap_codes = sorted((c for c in dimensions if c in heard), key=lambda c: kinds[c] != "maturity")
    maturity = sum(1 for c in gap_codes if kinds[c] == "maturity")
    gap_rows = [
        {"label": row["label"], "cells": [cells.get(code) for code in gap_codes]}
        for (_group, cells), row in zip(ordered, rows, strict=True)
        if any(cell.heard for cell in cells.values())
    ]
    return {
        "columns": [{"code": code, "name": names.get(code, code)} for code in dimensions],
        "rows": rows,
        "gap_columns": [{"code": code, "name": names.get(code, code)} for code in gap_codes],
        "gap_groups": [
            {"label": label_, "span": span}
            for label_, span in (
                (_("Maturity"), maturity),
                (_("Ways of working (asked neutrally)"), len(gap_codes) - maturity),
            )
            if span
        ],
        "gap_rows": gap_rows,
    }


@login_required
@require_GET
def export(request: AuthenticatedHttpRequest, table: str) -> StreamingHttpResponse:
    return _export(request, table, mine=False)


@login_required
@require_GET
def mine_export(request: AuthenticatedHttpRequest, table: str) -> StreamingHttpResponse:
    return _export(request, table, mine=True)


def _export(request: AuthenticatedHttpRequest, name: str, *, mine: bool) -> StreamingHttpResponse:
    table = TABLES.get(name)
    if table is None:
        raise Http404
    scope, _form = selectors.scope_of(request.user, request.GET, mine=mine)
    security_event_record(
        kind=SecurityEventKind.EXPORT,
        request=request,
        export=f"{name}.csv",
        mine=mine,
        filters={key: request.GET.getlist(key) for key in request.GET},
    )
    response = StreamingHttpResponse(
        csv_rows(table, table.load(scope)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="maturity-{name}-{stamp}.csv"'
    return response


# --- The client report ------------------------------------------------------------------


@login_required
@require_GET
def client_report_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The printable client report (the browser's print makes it paper or a PDF too)."""
    report = client_report(user=request.user, pk=pk, **_report_version(request))
    return render(
        request,
        "dashboards/client_report.html",
        {"report": report, "may_include": user_has_role(request.user, DIRECTORS)},
    )


def _report_version(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """The version asked for: the client's unless the team's is; defensiveness in the
    client's version only when a director asks for it."""
    team = request.GET.get("audience") == Audience.TEAM
    return {
        "audience": Audience.TEAM if team else Audience.CLIENT,
        "with_defensiveness": not team
        and request.GET.get("defensiveness") == "1"
        and user_has_role(request.user, DIRECTORS),
    }


@login_required
@require_GET
def client_report_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The same report as a PDF, laid out on the server."""
    # Here, not at the top: ReportLab takes ~0.1 s to import, which every process would
    # pay at start for a download few requests ask for.
    from dashboards.pdf import client_report_pdf as render_pdf

    report = client_report(user=request.user, pk=pk, **_report_version(request))
    security_event_record(
        kind=SecurityEventKind.EXPORT, request=request, export="client_report.pdf", client=pk
    )
    response = HttpResponse(render_pdf(report), content_type="application/pdf")
    stamp = timezone.localdate().isoformat()
    name = slugify(report.client.name) or "client"
    response["Content-Disposition"] = f'inline; filename="maturity-{name}-{stamp}.pdf"'
    return response
