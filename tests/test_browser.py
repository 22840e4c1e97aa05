"""Real Chromium against the live server: a person logs in and moves around."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(chromium_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # in a thread with a loop unless told it is safe, which it is for a test's own calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def test_a_demo_manager_logs_in_sees_their_portfolio_and_switches_language(live_server, page):
    call_command("seed_demo", "--clients", "6", "--force", verbosity=0)
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Rafael").wait_for()
    assert page.get_by_text("active clients").is_visible()
    page.locator("details.dropdown summary").click()  # the language is in the user's menu
    page.get_by_label("Language").select_option("pt-br")
    page.get_by_role("heading", name="Olá, Rafael").wait_for()
    page.get_by_role("link", name="Clientes").click()
    page.get_by_role("heading", name="Clientes").wait_for()
    from accounts.models import User
    from clients.selectors import clients_visible_to

    visible = clients_visible_to(User.objects.get(username="manager")).count()
    assert 0 < visible < 6
    assert page.locator("tbody tr").count() == visible


def login(page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")


def test_a_manager_creates_a_client_with_an_engagement_and_a_stakeholder(live_server, page):
    from tests.factories import PASSWORD, AccountManagerFactory

    AccountManagerFactory(username="ana", first_name="Ana")
    login(page, live_server, "ana", PASSWORD)
    page.get_by_role("link", name="Clients").click()
    page.get_by_role("button", name="Add your first client").click()

    # A missing field is refused with a message, and what was typed stays.
    page.get_by_label("Legal name").fill("Banco Horizonte S.A.")
    page.get_by_role("button", name="Create client").click()
    assert page.get_by_text("This field is required.").first.is_visible()
    assert page.get_by_label("Legal name").input_value() == "Banco Horizonte S.A."

    page.get_by_role("textbox", name="Name", exact=True).fill("Banco Horizonte")
    page.get_by_label("Segment").select_option("banking")
    page.get_by_label("Size").select_option("large")
    page.get_by_label("Country").select_option("BR")
    page.get_by_role("button", name="Create client").click()
    page.get_by_role("heading", name="Banco Horizonte").wait_for()

    # Inline add through htmx: the form opens in place and the section refreshes.
    page.get_by_role("button", name="Add engagement").click()
    form = page.locator("#engagements-slot form")
    form.get_by_label("Process type").select_option("collections")
    form.get_by_label("Life-cycle phase").select_option("transition")
    form.get_by_label("Start date").fill("2026-03-01")
    form.get_by_label("End date").fill("2026-01-01")
    form.get_by_role("button", name="Save").click()
    page.get_by_text("The end date cannot be before the start date.").wait_for()
    page.locator("#engagements-slot form").get_by_label("End date").fill("")
    page.locator("#engagements-slot form").get_by_role("button", name="Save").click()
    page.locator("#engagements table").get_by_text("Collections").wait_for()

    page.get_by_role("button", name="Add stakeholder").click()
    form = page.locator("#stakeholders-slot form")
    form.get_by_label("Name").fill("Mariana Lima")
    form.get_by_label("Role").fill("Head de Cobrança")
    form.get_by_label("Influence").fill("5")
    form.get_by_label("Stance").select_option("sponsor")
    form.get_by_role("button", name="Save").click()
    page.locator("#stakeholders table").get_by_text("Mariana Lima").wait_for()

    # A reload shows everything that was stored.
    page.reload()
    assert page.locator("#engagements").get_by_text("Transition").is_visible()
    assert page.locator("#stakeholders").get_by_text("Head de Cobrança").is_visible()
    assert page.locator("#history").get_by_text("Banco Horizonte: created").is_visible()


def answer_section(page) -> None:
    """Answer every question of the section on screen, as a person would."""
    cards = page.locator(".question-card")
    for index in range(cards.count()):
        card = cards.nth(index)
        if card.locator("label.level").count():
            card.locator("label.level").nth(2).click()
        elif card.locator("input[type=radio]").count():
            card.locator("input[type=radio]").first.check()
        elif card.locator("input[type=number]").count():
            field = card.locator("input[type=number]")
            field.fill(field.get_attribute("min") or "0")
            field.blur()
        else:
            continue  # free text: optional
        card.locator(".save-status.save-ok").wait_for()


def test_an_assessment_is_filled_reloaded_completed_submitted_and_approved(live_server, page):
    from assessments.models import Answer, Assessment
    from tests.factories import (
        PASSWORD,
        AccountManagerFactory,
        ClientFactory,
        DirectorFactory,
        EngagementFactory,
    )

    manager = AccountManagerFactory(username="ana", first_name="Ana")
    DirectorFactory(username="helena", first_name="Helena")
    EngagementFactory(client=ClientFactory(owner=manager, name="Banco Horizonte"))
    login(page, live_server, "ana", PASSWORD)
    page.get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="Banco Horizonte").click()
    page.locator("#engagements").get_by_role("button", name="Assess").click()
    page.get_by_text("0 of 48 answered").wait_for()
    # The breadcrumb's separator after a crumb without a link sits midway to the next.
    off_centre = page.evaluate(
        """() => {
            const [, crumb, next] = document.querySelectorAll('nav[aria-label=breadcrumb] li');
            const box = element => {
                const range = document.createRange();
                range.selectNodeContents(element);
                return range.getBoundingClientRect();
            };
            const end = box(crumb).right, start = box(next).left;
            const after = getComputedStyle(crumb, '::after');
            const centre = end + parseFloat(after.marginLeft) + parseFloat(after.width) / 2;
            return Math.abs(centre - (end + start) / 2);
        }"""
    )
    assert off_centre <= 2

    # Part of it, then a reload: every answer is still there.
    answer_section(page)
    answered = Answer.objects.count()
    assert answered >= 4
    page.reload()
    page.get_by_text(f"{answered} of 48 answered").wait_for()
    assert page.locator(".level input:checked").count() >= 4

    # "Not applicable" asks for its reason before saving: no error, the reason has the
    # focus, and the answer is saved once the reason is typed.
    card = page.locator(".question-card", has=page.locator("input[name=not_applicable]")).first
    question = int(card.get_attribute("id").removeprefix("question-"))
    card.locator("input[name=not_applicable]").check()
    page.wait_for_timeout(500)
    assert card.locator(".errorlist").count() == 0
    assert page.evaluate("document.activeElement.name") == "na_reason"
    page.keyboard.type("The client runs no campaigns in this channel")
    card.locator(".save-status.save-ok").wait_for()
    saved = Answer.objects.get(question_id=question)
    assert saved.not_applicable
    assert saved.na_reason == "The client runs no campaigns in this channel"

    # The rest, section by section.
    sections = page.locator("nav.sections a")
    for index in range(1, sections.count()):
        page.locator("nav.sections a").nth(index).click()
        page.wait_for_load_state()
        answer_section(page)
    # A note typed and submitted at once is not lost (saved on blur, or by the flush that
    # the submit does first for any question still being typed in).
    last = page.locator(".question-card").last
    last.locator("details summary").click()
    last.locator("textarea[name=note]").type("Typed just before submitting")
    page.get_by_role("button", name="Submit the assessment").click()
    page.get_by_text("Maturity level").wait_for()
    assert Answer.objects.filter(note="Typed just before submitting").exists()
    level = Assessment.objects.get().maturity_level
    assert page.locator(".level-badge").inner_text() == str(level)

    # A director approves it.
    page.locator("details.dropdown summary").click()
    page.get_by_role("button", name="Log out").click()
    login(page, live_server, "helena", PASSWORD)
    page.goto(live_server.url + "/assessments/review/")
    page.get_by_role("link", name="Banco Horizonte").click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Assessment approved.").wait_for()
    assert Assessment.objects.get().status == "approved"
