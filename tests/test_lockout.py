"""Sign-in lockout (django-axes): ten wrong passwords pause a username, or an IP address,
with a translated 429 page; an administrator unlocks at once."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from accounts.models import SecurityEvent, SecurityEventKind
from tests.factories import PASSWORD, AccountManagerFactory, AdministratorFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def sign_in(client, username, password, ip="10.1.1.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def test_ten_wrong_passwords_lock_the_username_even_against_the_right_one(client, settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    user = AccountManagerFactory()
    answers = [sign_in(client, user.username, f"wrong-{i}", ip=f"10.0.0.{i}") for i in range(10)]
    assert [r.status_code for r in answers[:9]] == [200] * 9  # the form again, with its error
    assert answers[9].status_code == 429
    # From yet another address, with the right password: still paused.
    locked = sign_in(client, user.username, PASSWORD, ip="10.9.9.9")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "paused for 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN_FAILED).count() == 11
    lockout = SecurityEvent.objects.filter(kind=SecurityEventKind.LOCKED_OUT).first()
    assert lockout is not None
    assert lockout.username == user.username


def test_ten_failures_from_one_address_lock_that_address_for_everyone(client):
    for i in range(10):
        sign_in(client, f"guess-{i}", "wrong", ip="192.0.2.7")
    other = AccountManagerFactory()
    assert sign_in(client, other.username, PASSWORD, ip="192.0.2.7").status_code == 429
    elsewhere = sign_in(client, other.username, PASSWORD, ip="198.51.100.1")
    assert elsewhere.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_a_success_before_the_limit_starts_the_count_again(client):
    user = AccountManagerFactory()
    for _ in range(9):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(9):
        assert sign_in(client, user.username, "wrong").status_code == 200
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_lockout_page_speaks_the_visitors_language(client):
    user = AccountManagerFactory()
    for _ in range(10):
        sign_in(client, user.username, "wrong", HTTP_ACCEPT_LANGUAGE="pt-BR")
    page = sign_in(client, user.username, PASSWORD, HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert page.status_code == 429
    assert "Entrada pausada" in page.content.decode()


def test_an_administrator_unlocks_from_the_admin(client):
    user = AccountManagerFactory()
    for _ in range(10):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    admin = AdministratorFactory(is_staff=True, is_superuser=True)
    staff = client.__class__()
    staff.force_login(admin)
    attempts = AccessAttempt.objects.filter(username=user.username)
    assert attempts.exists()
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert staff.get(changelist).status_code == 200
    response = staff.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [a.pk for a in attempts], "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, user.username, PASSWORD).status_code == 302
