"""The director's dashboard at the widths and in the languages where it broke (issue 14,
item 5): the header on one row, wide tables inside their box with the key column in view,
dates and names the reader can tell apart."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.utils import translation

from tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = ("heatmap-grid", "at_risk")


def overflowing(page, name: str) -> int:
    """How many pixels of the table stick out of its scrolling box."""
    return page.evaluate(
        """name => {
            const table = document.querySelector(`table[data-table="${name}"]`);
            const box = table.closest('.table-scroll');
            return box.scrollWidth - box.clientWidth;
        }""",
        name,
    )


def key_column_hidden(page, name: str) -> bool:
    """Scrolled to its far end, does the table lose its first column?"""
    return page.evaluate(
        """name => {
            const table = document.querySelector(`table[data-table="${name}"]`);
            const box = table.closest('.table-scroll');
            box.scrollLeft = box.scrollWidth;
            const left = box.getBoundingClientRect().left;
            return [...table.rows]
                .some(row => row.cells[0].getBoundingClientRect().left < left - 1);
        }""",
        name,
    )


@pytest.mark.parametrize("sized_page", [1366, 768], indirect=True)
@pytest.mark.parametrize("language", ["pt-br", "es"])
def test_the_dashboard_fits_and_reads_in_every_language(live_server, sized_page, language):
    from accounts.models import User

    page = sized_page
    call_command("seed_demo", "--clients", "12", "--force", verbosity=0)
    User.objects.filter(username="director").update(language=language)
    login(page, live_server, "director", "demo")
    width = page.viewport_size["width"]
    for by in ("segment", "process_type"):
        page.goto(f"{live_server.url}/dashboard/?by={by}")
        page.locator('table[data-table="heatmap-grid"]').wait_for()
        if by == "segment":
            # The demo spreads its clients over the segments (item 9): a row for each.
            from clients.models import Client

            segments = set(
                Client.objects.filter(
                    engagements__assessments__submitted_at__isnull=False
                ).values_list("segment", flat=True)
            )
            assert len(segments) >= 6
            rows = page.locator('table[data-table="heatmap-grid"] tbody tr').count()
            assert rows == len(segments)
        for name in WIDE:
            if width >= 1366:
                assert overflowing(page, name) <= 0, name
            else:
                assert not key_column_hidden(page, name), name
    if width >= 1366:
        rows = page.evaluate(
            "new Set([...document.querySelectorAll('.site-header nav > ul')]"
            ".map(u => Math.round(u.getBoundingClientRect().top))).size"
        )
        assert rows == 1
        # Every reason tag shows whole.
        assert page.evaluate(
            """() => { const box = document.querySelector('table[data-table="at_risk"]')
                .closest('.table-scroll').getBoundingClientRect();
              return [...document.querySelectorAll('.reasons .tag')]
                .every(tag => tag.getBoundingClientRect().right <= box.right + 1); }"""
        )

    # Level 5 and the high-maturity, low-defensiveness quadrant have different names.
    levels = [row[1] for row in table(page, "levels")]
    quadrants = [row[0] for row in table(page, "quadrants")]
    assert not set(levels) & set(quadrants)
    with translation.override(language):
        assert translation.gettext("Collaborative expert") in quadrants
    # Dates as the reader writes them.
    at_risk = page.locator('table[data-table="at_risk"]').inner_text()
    assert not re.search(r"\d{4}-\d{2}-\d{2}", at_risk)
    assert re.search(r"\d{2}/\d{2}/\d{4}", at_risk)


def table(page, name: str) -> list[list[str]]:
    return page.locator(f'table[data-table="{name}"] tbody tr').evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))"
    )
