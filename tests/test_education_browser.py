"""Real Chromium: an account manager works through their actions in place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.test_browser import login, page  # noqa: F401  (the Chromium page fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_completes_and_reschedules_actions_without_leaving_the_agenda(
    live_server,
    page,  # noqa: F811
):
    from education.models import ActionStatus, EducationAction
    from tests.factories import (
        PASSWORD,
        AccountManagerFactory,
        ClientFactory,
        EducationActionFactory,
        EngagementFactory,
    )

    manager = AccountManagerFactory(username="ana", first_name="Ana")
    engagement = EngagementFactory(client=ClientFactory(owner=manager, name="Banco Pampa"))
    today = timezone.localdate()
    late = EducationActionFactory(
        engagement=engagement, title="Alignment meeting", due_date=today - timedelta(days=2)
    )
    soon = EducationActionFactory(
        engagement=engagement, title="Site visit", due_date=today + timedelta(days=3)
    )
    login(page, live_server, "ana", PASSWORD)
    page.get_by_role("link", name="My actions", exact=True).click()
    page.get_by_role("heading", name="Overdue (1)").wait_for()

    row = page.locator(f"#action-{late.pk}")
    row.get_by_text("Complete", exact=True).click()
    # An empty outcome is refused on its field; the row stays open.
    row.get_by_role("button", name="Mark done").click()
    page.locator(f"#action-{late.pk} .errorlist").wait_for()
    row = page.locator(f"#action-{late.pk}")
    row.get_by_label("Outcome").fill("Met the sponsor and procurement; the audit clause goes.")
    row.get_by_role("button", name="Mark done").click()
    page.locator(f"#action-{late.pk}.status-done").wait_for()
    assert "the audit clause goes" in page.locator(f"#action-{late.pk}").inner_text()
    # Done, it left the overdue group: the tab and the heading count again, in place.
    page.get_by_role("heading", name="Overdue (0)").wait_for()
    tab = page.locator(".worklist-tabs a", has_text="Overdue")
    assert tab.locator(".count").inner_text() == "0"

    page.get_by_role("link", name="This week").click()  # the next group, in place
    page.get_by_role("heading", name="This week (1)").wait_for()
    other = page.locator(f"#action-{soon.pk}")
    other.get_by_text("Reschedule", exact=True).click()
    new_due = today + timedelta(days=20)
    other.get_by_label("New due date").fill(new_due.isoformat())
    other.get_by_role("button", name="Save date").click()
    page.locator(f"#action-{soon.pk} time[datetime='{new_due.isoformat()}']").wait_for()

    assert EducationAction.objects.get(pk=late.pk).status == ActionStatus.DONE
    assert EducationAction.objects.get(pk=soon.pk).due_date == new_due
    assert "/education/" in page.url  # all of it in place, no navigation
