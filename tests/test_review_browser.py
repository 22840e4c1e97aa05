"""Reviewing in Chromium (issue 14, item 4): the queue is counted, filtered and sorted,
the decision is on screen without scrolling, and each decision opens the next one of the
same queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from tests.browser import wait_for_js
from tests.factories import PASSWORD
from tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def waiting(language: str):
    """Three submitted assessments: two banks (40 and 10 days old) and a retailer."""
    from assessments.models import Assessment
    from tests.factories import (
        AccountManagerFactory,
        ClientFactory,
        DirectorFactory,
        EngagementFactory,
        submitted_assessment,
    )

    DirectorFactory(username="helena", language=language)
    ana, bruno = AccountManagerFactory(), AccountManagerFactory()
    made = []
    for owner, name, segment, days in (
        (ana, "Banco Horizonte", "banking", 40),
        (bruno, "Loja Aurora", "retail", 20),
        (bruno, "Banco Sul", "banking", 10),
    ):
        client = ClientFactory(owner=owner, name=name, segment=segment)
        assessment = submitted_assessment(EngagementFactory(client=client))
        Assessment.objects.filter(pk=assessment.pk).update(
            submitted_at=timezone.now() - timedelta(days=days)
        )
        made.append(assessment)
    return made


@pytest.mark.parametrize(
    ("language", "sized_page"), [("pt-br", 1366), ("es", 768)], indirect=["sized_page"]
)
def test_a_director_works_through_a_filtered_queue(live_server, sized_page, language):
    from assessments.models import Assessment

    page = sized_page
    oldest_bank, retailer, newest_bank = waiting(language)
    login(page, live_server, "helena", PASSWORD)
    page.goto(f"{live_server.url}/assessments/review/")
    with translation.override(language):
        count = translation.ngettext(
            "%(counter)s assessment waiting", "%(counter)s assessments waiting", 3
        ) % {"counter": 3}
        assert page.locator(".queue-count").inner_text().startswith(count)

        # Banks only, newest first: the filter and the order apply as they are chosen.
        page.get_by_label(translation.gettext("Segment")).select_option("banking")
        page.locator("tbody tr").nth(1).wait_for()
        wait_for_js(page, "document.querySelectorAll('tbody tr').length === 2")
        page.get_by_label(translation.gettext("Sort by")).select_option("-submitted")
        page.wait_for_url("**ordering=-submitted**")
        wait_for_js(page, "document.querySelector('tbody td').innerText === 'Banco Sul'")
        assert page.locator("tbody td:first-child").all_inner_texts() == [
            "Banco Sul",
            "Banco Horizonte",
        ]

        # The first opens with the decision on screen, and says where it stands.
        page.get_by_role("link", name="Banco Sul").click()
        bar = page.locator(".review-bar")
        bar.wait_for()
        box = bar.bounding_box()
        assert box["y"] >= 0
        assert box["y"] + box["height"] <= 768
        place = translation.gettext("%(place)s of %(length)s in the queue")
        assert place % {"place": 1, "length": 2} in bar.inner_text()

        # Approving opens the next bank, not the retailer.
        bar.get_by_role("button", name=translation.gettext("Approve")).click()
        page.wait_for_url(f"**/assessments/{oldest_bank.pk}/result/?queue=*")
        assert page.get_by_text(translation.gettext("Here is the next one in the queue.")).count()
        assert place % {"place": 1, "length": 1} in page.locator(".review-bar").inner_text()

        # Returning needs a comment; the comment typed stays with the decision.
        bar = page.locator(".review-bar")
        bar.get_by_role("button", name=translation.gettext("Return for correction")).click()
        page.wait_for_url(f"**/assessments/{oldest_bank.pk}/result/?queue=*")
        bar.locator("textarea").fill("The SLA answers contradict the contract")
        bar.get_by_role("button", name=translation.gettext("Return for correction")).click()
        page.wait_for_url("**/assessments/review/?segment=banking&ordering=-submitted")
        assert page.get_by_text(
            translation.gettext("Nothing else is waiting in this queue.")
        ).is_visible()

    statuses = dict(Assessment.objects.values_list("pk", "status"))
    assert statuses == {
        newest_bank.pk: "approved",
        oldest_bank.pk: "returned",
        retailer.pk: "submitted",
    }
