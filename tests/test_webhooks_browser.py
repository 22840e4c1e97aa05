"""Webhooks in Chromium: a director, in Portuguese at a desktop width and in Spanish at a
tablet's, finds Webhooks in the menu, has a bad URL refused without losing what was typed,
adds the endpoint, copies its secret (shown once), sends a test event and sees it in the
log — with no serious accessibility violation and nothing refused by the CSP."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, DirectorFactory
from tests.test_accessibility import problems
from tests.test_browser import login
from tests.test_csp_browser import COLLECT
from tests.webhook_receiver import receiver
from webhooks.models import Endpoint
from webhooks.relay import deliveries_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "pt-br": {"menu": "Webhooks", "add": "Adicionar endpoint", "test": "Enviar evento de teste"},
    "es": {"menu": "Webhooks", "add": "Añadir endpoint", "test": "Enviar evento de prueba"},
}


@pytest.mark.parametrize(
    ("language", "sized_page"), [("pt-br", 1366), ("es", 768)], indirect=["sized_page"]
)
def test_a_director_adds_an_endpoint_and_tests_it(live_server, sized_page, language, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # as in production, for the refusal
    page = sized_page
    page.add_init_script(COLLECT)
    words = WORDS[language]
    director = DirectorFactory(language=language)
    login(page, live_server, director.username, PASSWORD)
    axe: dict[str, list[str]] = {}

    page.locator("details.dropdown summary").click()
    page.get_by_role("link", name=words["menu"]).click()
    page.wait_for_url(live_server.url + "/integrations/webhooks/")
    axe["list"] = problems(page)
    page.get_by_role("button", name=words["add"]).first.click()
    page.locator("input[name=url]").fill("http://10.0.0.7/hooks")
    page.locator("input[name=description]").fill("CRM")
    page.locator("input[value='client.created']").check()
    page.locator("form.webhook-form button[type=submit]").click()
    page.wait_for_load_state("load")
    # Refused, with everything typed still there.
    assert page.locator(".field-url .errorlist").is_visible()
    assert page.locator("input[name=url]").input_value() == "http://10.0.0.7/hooks"
    assert page.locator("input[name=description]").input_value() == "CRM"
    assert page.locator("input[value='client.created']").is_checked()
    axe["form with errors"] = problems(page)

    with receiver() as hook:
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver runs on this machine
        page.locator("input[name=url]").fill(hook.url)
        page.locator("form.webhook-form button[type=submit]").click()
        page.locator("#signing-secret").wait_for()
        endpoint = Endpoint.objects.get()
        assert page.locator("#signing-secret").inner_text() == endpoint.secret
        axe["detail with its secret"] = problems(page)
        page.get_by_role("button", name=words["test"]).click()
        page.wait_for_load_state("load")
        assert page.locator("#signing-secret").count() == 0  # shown once
        assert deliveries_send().delivered == 1
        page.reload()
        assert page.locator(".webhook-log tbody tr").count() == 1
        assert "webhook.test" in page.locator(".webhook-log").inner_text()
        axe["detail with its log"] = problems(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"]  # nothing sticks out at this width
    assert {name: found for name, found in axe.items() if found} == {}
    assert page.evaluate("window.__violations") == []
