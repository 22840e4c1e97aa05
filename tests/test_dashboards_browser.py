"""Real Chromium: a director filters the portfolio dashboard in place and downloads a table
whose rows match the page; an account manager cannot open the portfolio."""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser import wait_for_js
from tests.test_browser import login, page  # noqa: F401  (the Chromium page fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def build_portfolio():
    from clients.models import Phase, ProcessType, Segment
    from dashboards.summaries import summaries_rebuild
    from tests.factories import (
        AccountManagerFactory,
        ClientFactory,
        DirectorFactory,
        EngagementFactory,
        submitted_assessment,
    )

    ana = AccountManagerFactory(username="ana", first_name="Ana", last_name="Lima")
    bruno = AccountManagerFactory(username="bruno", first_name="Bruno", last_name="Reis")
    DirectorFactory(username="dora", first_name="Dora")
    plan = [
        ("Banco Pampa", Segment.BANKING, ana, 1),
        ("Banco Serra", Segment.BANKING, bruno, 2),
        ("Tele Sul", Segment.TELECOM, ana, 4),
        ("Tele Norte", Segment.TELECOM, bruno, 1),
        ("Loja Azul", Segment.RETAIL, ana, 3),
    ]
    for name, segment, owner, level in plan:
        engagement = EngagementFactory(
            client=ClientFactory(name=name, segment=segment, owner=owner),
            process_type=ProcessType.COLLECTIONS,
            phase=Phase.OPERATION,
        )
        submitted_assessment(engagement, level=level)
    summaries_rebuild()


def tile(page, name: str) -> str:  # noqa: F811
    return page.locator(f'[data-tile="{name}"] strong').inner_text()


def table_rows(page, name: str) -> list[list[str]]:  # noqa: F811
    return page.locator(f'table[data-table="{name}"] tbody tr').evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )


def test_a_director_filters_the_dashboard_and_downloads_what_it_shows(
    live_server,
    page,  # noqa: F811
):
    build_portfolio()
    login(page, live_server, "dora", "correct horse battery staple")
    page.get_by_role("link", name="Portfolio", exact=True).click()
    page.get_by_role("heading", name="Portfolio", exact=True).wait_for()
    assert tile(page, "active_clients") == "5"
    at_risk_before = table_rows(page, "at_risk")
    assert {row[0] for row in at_risk_before} >= {"Banco Pampa", "Tele Norte"}
    # The charts are drawn (a canvas Chart.js took over), with their tables beside them.
    wait_for_js(
        page,
        "() => !!(window.Chart"
        " && Chart.getChart(document.querySelector('canvas[data-chart=scatter]')))",
    )
    assert len(table_rows(page, "levels")) == 5

    # A filter applies in place (htmx, no reload) and lands in the URL.
    page.evaluate("window.__still_here = true")
    page.get_by_label("Segment", exact=True).select_option("banking")
    page.wait_for_url("**segment=banking**")
    wait_for_js(
        page, "() => document.querySelector('[data-tile=active_clients] strong').innerText === '2'"
    )
    assert page.evaluate("window.__still_here") is True  # the same document: no reload
    at_risk = table_rows(page, "at_risk")
    assert {row[0] for row in at_risk} <= {"Banco Pampa", "Banco Serra"}
    assert at_risk != at_risk_before
    levels = table_rows(page, "levels")

    # The levels table's CSV, with the same filters, holds exactly the rows shown.
    with page.expect_download() as download_info:
        page.locator('table[data-table="levels"]').locator(
            "xpath=../following-sibling::p[1]/a"
        ).click()
    download = download_info.value
    with open(download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert rows[0] == ["Level", "Name", "Engagements"]
    assert rows[1:] == levels
    assert sum(int(r[2]) for r in rows[1:]) == 2

    # The shared URL opens the same view.
    page.goto(page.url)
    assert page.get_by_label("Segment", exact=True).input_value() == "banking"
    assert tile(page, "active_clients") == "2"


def test_an_account_manager_cannot_open_the_portfolio(live_server, page):  # noqa: F811
    build_portfolio()
    login(page, live_server, "ana", "correct horse battery staple")
    assert page.get_by_role("link", name="Portfolio", exact=True).count() == 0
    page.get_by_role("link", name="My dashboard", exact=True).click()
    page.get_by_role("heading", name="My dashboard").wait_for()
    assert tile(page, "active_clients") == "3"  # Ana's three clients
    names = {row[0] for row in table_rows(page, "at_risk")}
    assert "Tele Norte" not in names  # Bruno's
    response = page.goto(live_server.url + "/dashboard/portfolio/")
    assert response is not None
    assert response.status == 403
