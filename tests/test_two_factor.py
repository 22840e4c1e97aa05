"""Two-factor authentication: turning it on and off, signing in with a code or a recovery
code, the role that must have it, and what the security log says."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent, SecurityEventKind
from tests.factories import PASSWORD, AccountManagerFactory, DirectorFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
CODE = reverse("accounts:second_factor")
PAGE = reverse("accounts:two_factor")


def code_of(device: TOTPDevice, *, later: int = 0) -> str:
    """The app's code now, or ``later`` steps on: a code once accepted is never accepted
    again (django-otp refuses a replay), so a second sign-in in a test takes the next."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0 - later * device.step):06d}"


@pytest.fixture(autouse=True)
def _no_waiting_after_a_wrong_code(settings):
    # django-otp makes a device wait 2^n seconds after n wrong codes; these tests type a
    # right code straight after a wrong one.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def turned_on(client, user) -> tuple[TOTPDevice, list[str]]:
    """Through the user's own page, as a person does it."""
    client.force_login(user)
    assert client.get(PAGE, {"setup": "1"}).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(PAGE, {"action": "setup", "code": code_of(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    client.logout()
    device.refresh_from_db()
    return device, codes


def test_turning_it_on_takes_a_right_code_and_shows_recovery_codes_once(client):
    user = AccountManagerFactory()
    client.force_login(user)
    page = client.get(PAGE, {"setup": "1"})
    assert "<svg" in page.content.decode()  # the QR code, drawn on the server
    refused = client.post(PAGE, {"action": "setup", "code": "000000"})
    assert "That code is not right" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    device, codes = turned_on(client, user)
    assert device.confirmed
    assert len(codes) == len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.MFA_ENABLED, user=user).exists()


def test_with_it_on_the_password_alone_does_not_sign_in(client):
    user = AccountManagerFactory()
    device, _codes = turned_on(client, user)
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == CODE
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("web:home")).status_code == 302  # still signed out
    wrong = client.post(CODE, {"code": "123456"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    signed_in = client.post(CODE, {"code": code_of(device, later=1)})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    login = SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN, user=user).latest("id")
    assert login.detail == {"second_factor": "totp"}
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.MFA_REFUSED).count() == 1


def test_a_recovery_code_signs_in_once(client):
    user = AccountManagerFactory()
    _device, codes = turned_on(client, user)
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert client.post(CODE, {"code": codes[0].upper()}).status_code == 302
    client.logout()
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    again = client.post(CODE, {"code": codes[0]})
    assert again.status_code == 200  # used up
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.RECOVERY_CODE_USED).count() == 1


def test_five_wrong_codes_send_the_user_back_to_the_password(client):
    user = AccountManagerFactory()
    device, _codes = turned_on(client, user)
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    for _ in range(4):
        assert client.post(CODE, {"code": "000000"}).status_code == 200
    assert client.post(CODE, {"code": "000000"})["Location"] == LOGIN
    assert client.post(CODE, {"code": code_of(device, later=1)})["Location"] == LOGIN


def test_the_code_step_does_not_open_without_the_password_step(client):
    response = client.get(CODE)
    assert response.status_code == 302
    assert response["Location"] == LOGIN


def test_when_required_a_director_sets_it_up_while_signing_in(client, settings):
    settings.TWO_FACTOR_REQUIRED = True
    director = DirectorFactory()
    response = client.post(LOGIN, {"username": director.username, "password": PASSWORD})
    assert response["Location"] == CODE
    setup = client.get(CODE)
    assert "Your role signs in with two factors" in setup.content.decode()
    device = TOTPDevice.objects.get(user=director, confirmed=False)
    done = client.post(CODE, {"action": "setup", "code": code_of(device)})
    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert client.session["_auth_user_id"] == str(director.pk)
    # and it cannot be turned off
    refused = client.post(
        PAGE, {"action": "disable", "code": done.context["codes"][0]}, follow=True
    )
    assert "Your role must sign in with two factors" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=director, confirmed=True).exists()


def test_when_required_managers_still_sign_in_with_a_password(client, settings):
    settings.TWO_FACTOR_REQUIRED = True
    manager = AccountManagerFactory()
    response = client.post(LOGIN, {"username": manager.username, "password": PASSWORD})
    assert response["Location"] == reverse("web:home")


def test_turning_it_off_takes_a_code(client):
    user = AccountManagerFactory()
    device, _codes = turned_on(client, user)
    client.force_login(user)
    refused = client.post(PAGE, {"action": "disable", "code": "999999"})
    assert "That code is not right" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    client.post(PAGE, {"action": "disable", "code": code_of(device, later=1)})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.MFA_DISABLED).exists()


def test_api_tokens_are_unaffected(client, api):
    from api.services import api_token_issue

    user = AccountManagerFactory()
    turned_on(client, user)
    _token, raw = api_token_issue(user=user, name="crm")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/clients/").status_code == 200


def test_the_admin_sign_in_form_cannot_skip_the_second_factor(client, settings):
    from tests.factories import AdministratorFactory

    settings.TWO_FACTOR_REQUIRED = True
    admin = AdministratorFactory(is_staff=True, is_superuser=True)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/"
    posted = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert posted.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
