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
    page.get_by_label("Language").select_option("pt-br")
    page.get_by_role("heading", name="Olá, Rafael").wait_for()
    page.get_by_role("link", name="Clientes").click()
    page.get_by_role("heading", name="Clientes").wait_for()
    from accounts.models import User
    from clients.selectors import clients_visible_to

    visible = clients_visible_to(User.objects.get(username="manager")).count()
    assert 0 < visible < 6
    assert page.locator("tbody tr").count() == visible
