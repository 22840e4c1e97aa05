"""Single sign-on through a real OpenID Connect provider (panva/node-oidc-provider, started
here on loopback), driven in Chromium: a new user is created with the role the provider's
groups map to, an existing one is matched by verified e-mail (and loses the password when
the setting says so), an unverified address is refused, and the whole is off by default."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from tests.celery_process import free_port
from tests.conftest import missing_service

PROVIDER = Path(__file__).parent / "oidc_provider"
ACCOUNTS = {
    "ana": {
        "email": "ana@corp.example",
        "email_verified": True,
        "given_name": "Ana",
        "family_name": "Souza",
        "preferred_username": "ana.souza",
        "groups": ["staff", "maturity-directors"],
    },
    "bruno": {"email": "Bruno@Corp.example", "email_verified": True, "groups": ["staff"]},
    "eve": {"email": "eve@corp.example", "email_verified": False},
}


@pytest.fixture
def provider(live_server, settings, tmp_path):
    """The provider, its one client pointing at this live server, and Maturity configured
    to use it."""
    if not shutil.which("node") or not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        missing_service("node and tests/oidc_provider/node_modules (make install) are needed")
    port = free_port()
    log = (tmp_path / "provider.log").open("wb")
    process = subprocess.Popen(
        ["node", "provider.mjs"],
        cwd=PROVIDER,
        env={
            **os.environ,
            "PORT": str(port),
            "ACCOUNTS": json.dumps(ACCOUNTS),
            "CLIENT_ID": "maturity",
            "CLIENT_SECRET": "maturity-test-secret",
            "REDIRECT_URIS": live_server.url + reverse("oidc_authentication_callback"),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail((tmp_path / "provider.log").read_text())
        settings.OIDC_RP_CLIENT_ID = "maturity"
        settings.OIDC_RP_CLIENT_SECRET = "maturity-test-secret"
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{issuer}/auth"
        settings.OIDC_OP_TOKEN_ENDPOINT = f"{issuer}/token"
        settings.OIDC_OP_USER_ENDPOINT = f"{issuer}/me"
        settings.OIDC_OP_JWKS_ENDPOINT = f"{issuer}/jwks"
        settings.OIDC_RP_SCOPES = "openid email profile groups"
        settings.OIDC_PROVIDER_NAME = "Keycloak"
        settings.OIDC_ROLE_MAP = {"maturity-directors": "director"}
        settings.AUTHENTICATION_BACKENDS = [
            *settings.AUTHENTICATION_BACKENDS,
            "accounts.oidc.OIDCBackend",
        ]
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def sign_in_at_the_provider(page, live_server, account: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("button", name="Sign in with Keycloak").click()
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()
    consent = page.locator("button[type=submit]")  # the provider asks to share the claims
    consent.wait_for()
    consent.click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_single_sign_on_creates_matches_and_refuses(live_server, provider, sized_page, settings):
    from accounts.models import Role, SecurityEvent, SecurityEventKind, User
    from tests.factories import PASSWORD, AccountManagerFactory

    page = sized_page
    # A new user: created from the claims, a director by the provider's group.
    sign_in_at_the_provider(page, live_server, "ana")
    page.wait_for_url(live_server.url + "/")
    ana = User.objects.get(email="ana@corp.example")
    assert (ana.username, ana.first_name, ana.role) == ("ana.souza", "Ana", Role.DIRECTOR)
    assert not ana.has_usable_password()
    login = SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN, user=ana).get()
    assert login.detail == {"via": "sso"}

    # An existing user, matched by verified e-mail whatever its case; keeps the role (the
    # groups map to none); with the setting on, the password no longer signs in.
    settings.OIDC_DISABLE_PASSWORD = True
    bruno = AccountManagerFactory(username="bruno", email="bruno@corp.example")
    page.context.clear_cookies()
    sign_in_at_the_provider(page, live_server, "bruno")
    page.wait_for_url(live_server.url + "/")
    bruno.refresh_from_db()
    assert bruno.role == Role.ACCOUNT_MANAGER
    assert not bruno.has_usable_password()
    assert User.objects.filter(email__iexact="bruno@corp.example").count() == 1
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.locator("#id_username").fill("bruno")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    assert page.url.startswith(live_server.url + "/accounts/login/")

    # An address the provider has not verified signs no one in.
    page.context.clear_cookies()
    sign_in_at_the_provider(page, live_server, "eve")
    page.wait_for_url(live_server.url + "/accounts/login/?sso=failed")
    assert page.locator("[role=alert]").first.inner_text().startswith("Single sign-on did not")
    assert not User.objects.filter(email="eve@corp.example").exists()


@pytest.mark.django_db
def test_single_sign_on_is_off_unless_configured(client):
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404
    assert "Sign in with" not in client.get(reverse("accounts:login")).content.decode()
