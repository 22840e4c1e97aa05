"""Accessibility in Chromium (issue 14): axe-core finds no serious or critical violation on
the pages people use every day, in Portuguese and Spanish at a desktop and a tablet width,
and the everyday controls work from the keyboard alone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from tests.browser import wait_for_js
from tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands."""
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:3]}"
        for v in found
        if v["impact"] in BLOCKING
    ]


def the_demo(language: str):
    """A small demo portfolio, the manager and director speaking ``language``, and one
    assessment in progress with a refused submit's marks to look at."""
    from accounts.models import User
    from assessments.models import Assessment, AssessmentStatus
    from assessments.services import assessment_start
    from clients.selectors import engagements_visible_to

    call_command("seed_demo", "--clients", "6", "--force", verbosity=0)
    User.objects.filter(username__in=["manager", "director"]).update(language=language)
    manager = User.objects.get(username="manager")
    submitted = (
        Assessment.objects.filter(
            engagement__in=engagements_visible_to(manager), status=AssessmentStatus.SUBMITTED
        )
        .order_by("-submitted_at")
        .first()
    )
    draft, _ = assessment_start(engagement=submitted.engagement, by=manager)
    heard(submitted.engagement, manager)
    return submitted, draft


def heard(engagement, manager) -> None:
    """The client's people answered a round on the engagement, so its client's view shows
    on the result page, the client page, the report and the dashboard's gap heatmap."""
    from datetime import timedelta

    from django.utils import timezone

    from clients.models import Stakeholder
    from voice.models import Round
    from voice.services import (
        client_answer_save,
        client_questions,
        invitation_create,
        invitation_finish,
        round_close,
        round_open,
    )

    for round_ in Round.objects.filter(engagement=engagement, closed_at__isnull=True):
        round_close(round=round_, by=manager)
    round_ = round_open(
        engagement=engagement, by=manager, closes_on=timezone.localdate() + timedelta(days=9)
    )
    person = Stakeholder.objects.create(
        client=engagement.client, name="Respondent", email="respondent@client.example"
    )
    invitation, _ = invitation_create(round=round_, stakeholder=person, language="es", by=manager)
    for question in client_questions(round_.version):
        client_answer_save(invitation=invitation, question_id=question.pk, value=4, revision=None)
    invitation_finish(invitation=invitation)


@pytest.mark.parametrize(
    ("language", "sized_page"), [("pt-br", 1366), ("es", 768)], indirect=["sized_page"]
)
def test_the_main_pages_have_no_serious_accessibility_violation(live_server, sized_page, language):
    page = sized_page
    submitted, draft = the_demo(language)
    client = submitted.engagement.client_id
    found: dict[str, list[str]] = {}

    def check(path: str) -> None:
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        if issues := problems(page):
            found[path] = issues

    check("/accounts/login/")
    login(page, live_server, "manager", "demo")
    for path in (
        "/",
        "/clients/",
        f"/clients/{client}/",
        f"/assessments/{draft.pk}/",
        f"/assessments/{draft.pk}/?missing=1",
        f"/assessments/{submitted.pk}/result/",
        "/education/",
        "/dashboard/mine/",
        f"/clients/{client}/report/",
    ):
        check(path)
    page.context.clear_cookies()
    login(page, live_server, "director", "demo")
    for path in (
        "/assessments/review/",
        f"/assessments/{submitted.pk}/result/?queue=",
        "/dashboard/portfolio/",
        f"/clients/{client}/report/?audience=team",
        f"/clients/{client}/engagements/{submitted.engagement_id}/voice/",
    ):
        check(path)
    # The client's view was on the pages checked: the dashboard's gap heatmap, the report's table.
    for path, selector in (
        ("/dashboard/portfolio/", "table[data-table=gap-grid]"),
        (f"/clients/{client}/report/?audience=team", "table.report-views"),
    ):
        page.goto(live_server.url + path)
        assert page.locator(selector).count() == 1, path
    assert found == {}


def test_an_assessment_is_answered_and_an_action_completed_from_the_keyboard(
    live_server, sized_page
):
    from assessments.models import Answer
    from education.models import ActionStatus, EducationAction

    page = sized_page
    _submitted, draft = the_demo("pt-br")
    login(page, live_server, "manager", "demo")

    # The first level of the first question: reached with Tab, chosen with the arrows.
    page.goto(f"{live_server.url}/assessments/{draft.pk}/")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.level input[type=radio]')"):
            break
    else:
        pytest.fail("no answer reachable with Tab")
    page.keyboard.press("ArrowDown")
    page.locator(".save-status.save-ok").first.wait_for()
    assert Answer.objects.filter(assessment=draft).count() == 1

    # The first action of My actions: its "Complete" opened, its outcome typed and sent by
    # keyboard alone.
    page.goto(f"{live_server.url}/education/")
    complete = page.locator(".action-row a[href*='form=complete']").first
    action = EducationAction.objects.get(
        pk=int(complete.evaluate("a => a.closest('.action-row').id.split('-')[1]"))
    )
    complete.focus()
    page.keyboard.press("Enter")
    # (Once htmx has settled the form it swapped in, so the form sends in place.)
    wait_for_js(
        page,
        "document.activeElement.name === 'outcome'"
        " && !document.querySelector('.htmx-settling, .htmx-added, .htmx-swapping')",
    )
    page.keyboard.type("Reunião feita; metas acordadas.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(f"#action-{action.pk}.status-done").wait_for()
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
