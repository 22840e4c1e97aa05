"""The client's trend in Chromium (issue 14, item 6): one chart per engagement, with dated
axes and a sentence that says what it shows, never one line zig-zagging between them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from tests.factories import PASSWORD
from tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def two_engagements(language: str):
    """Collections assessed at levels 2 then 4; back office at 4, 4 and 4."""
    from assessments.models import Assessment
    from clients.models import ProcessType
    from tests.factories import (
        AccountManagerFactory,
        ClientFactory,
        EngagementFactory,
        submitted_assessment,
    )

    manager = AccountManagerFactory(username="ana", language=language)
    client = ClientFactory(owner=manager, name="Banco Horizonte")
    plan = {
        ProcessType.COLLECTIONS: (2, 4),
        ProcessType.BACK_OFFICE: (4, 4, 4),
    }
    days = iter(range(400, 0, -60))
    for process, levels in plan.items():
        engagement = EngagementFactory(client=client, process_type=process)
        for level in levels:
            done = submitted_assessment(engagement, level=level)
            Assessment.objects.filter(pk=done.pk).update(
                submitted_at=timezone.now() - timedelta(days=next(days))
            )
    return client


@pytest.mark.parametrize("sized_page", [1366, 768], indirect=True)
@pytest.mark.parametrize("language", ["pt-br", "es"])
def test_each_engagement_has_its_own_dated_line(live_server, sized_page, language):
    from assessments.models import Assessment

    page = sized_page
    client = two_engagements(language)
    login(page, live_server, "ana", PASSWORD)
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    charts = page.locator("figure.trend-series")
    assert charts.count() == 2
    with translation.override(language):
        collections, back_office = (
            charts.filter(has=page.locator("figcaption strong", has_text=translation.gettext(name)))
            for name in ("Collections", "Back office")
        )
        # One line per engagement: 1 step for two assessments, 2 for three.
        assert collections.locator("line.line-maturity").count() == 1
        assert back_office.locator("line.line-maturity").count() == 2
        # A plain sentence: what moved, from when.
        rose = translation.gettext("maturity rose from %(before)s to %(after)s")
        assert rose.split("%(before)s")[0] in collections.locator("figcaption").inner_text()
        held = translation.gettext("maturity held at %(before)s")
        assert held.split("%(before)s")[0] in back_office.locator("figcaption").inner_text()
        # Dated axis: the first and last assessment's dates, in the reader's format.
        first = Assessment.objects.filter(engagement__client=client).order_by("submitted_at")[0]
        day = date_format(timezone.localtime(first.submitted_at), "SHORT_DATE_FORMAT")
        assert day in collections.locator("text.date-label").all_text_contents()
        assert "0 open" not in page.content()
    # No axis label sticks out of its chart.
    assert page.evaluate(
        """() => [...document.querySelectorAll('svg.trend-chart text')].every(text => {
            const box = text.getBoundingClientRect();
            const svg = text.ownerSVGElement.getBoundingClientRect();
            return box.left >= svg.left - 1 && box.right <= svg.right + 1;
        })"""
    )
