"""Two-factor sign-in in Chromium: a director who must have it sets up the authenticator
while signing in, then signs in again with its code — under the Content-Security-Policy,
with no violation."""

from __future__ import annotations

import pytest
from django_otp.oath import totp

from tests.test_csp_browser import COLLECT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code(device, later=0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 - later * device.step):06d}"


def test_a_director_sets_up_and_signs_in_with_an_authenticator(live_server, sized_page, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import PASSWORD, DirectorFactory

    settings.TWO_FACTOR_REQUIRED = True
    director = DirectorFactory(username="diretora", language="pt-br")
    page = sized_page
    page.add_init_script(COLLECT)

    def password_step() -> None:
        page.goto(live_server.url + "/accounts/login/")
        page.locator("#id_username").fill("diretora")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(live_server.url + "/accounts/login/code/")

    password_step()
    page.locator(".qr svg").wait_for()
    device = TOTPDevice.objects.get(user=director, confirmed=False)
    page.locator("#id_code").fill(code(device))
    page.locator("form button[type=submit]").click()
    page.locator(".recovery-codes li").first.wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    page.locator(".actions a[href]").click()
    page.wait_for_url(live_server.url + "/")

    page.context.clear_cookies()
    password_step()
    assert page.locator(".qr").count() == 0  # a code is asked, nothing is set up again
    page.locator("#id_code").fill(code(device, later=1))
    page.locator("form button[type=submit]").click()
    page.wait_for_url(live_server.url + "/")
    assert page.locator("details.dropdown summary").inner_text().strip() == str(director)
    assert page.evaluate("window.__violations") == []
