"""The client's address (core.network.client_ip): read one way for the sign-in lockout, the
API's rate limits, the security log and the request's log line, trusting X-Forwarded-For
only as far as TRUSTED_PROXY_COUNT says."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import SecurityEvent, SecurityEventKind
from core.network import client_ip
from tests.factories import AccountManagerFactory

LOGIN = reverse("accounts:login")


def address(proxies: int, settings, **meta) -> str | None:
    settings.TRUSTED_PROXY_COUNT = proxies
    return client_ip(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        # No proxy trusted: the peer, whatever the client wrote in the header.
        (0, {"REMOTE_ADDR": "198.51.100.7", "HTTP_X_FORWARDED_FOR": "10.0.0.1"}, "198.51.100.7"),
        # One proxy: the address it appended; what the client put before it is ignored.
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"},
         "203.0.113.9"),
        # Two: the second proxy appended the first's address; the client is one further left.
        (2, {"REMOTE_ADDR": "10.0.0.3", "HTTP_X_FORWARDED_FOR": "6.6.6.6,203.0.113.9, 10.0.0.4"},
         "203.0.113.9"),
        # Fewer entries than proxies: the header is not vouched for; the peer is.
        (2, {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, "10.0.0.5"),
        (1, {"REMOTE_ADDR": "10.0.0.6"}, "10.0.0.6"),
        # IPv6, normalised; junk is no address.
        (0, {"REMOTE_ADDR": "2001:DB8::0001"}, "2001:db8::1"),
        (1, {"REMOTE_ADDR": "10.0.0.7", "HTTP_X_FORWARDED_FOR": "not-an-address"}, None),
        (0, {"REMOTE_ADDR": ""}, None),
    ],
)  # fmt: skip
def test_the_client_is_the_entry_the_trusted_proxies_vouch_for(settings, proxies, meta, expected):
    assert address(proxies, settings, **meta) == expected


def sign_in(client, username, **meta):
    return client.post(LOGIN, {"username": username, "password": "wrong"}, **meta)


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_header_does_not_dodge_the_address_lockout(
    client, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    answers = [
        sign_in(
            client, f"nobody-{i}", REMOTE_ADDR="198.51.100.20", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        )
        for i in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers[-1].status_code == 429
    failures = SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN_FAILED)
    assert set(failures.values_list("ip", flat=True)) == {"198.51.100.20"}


@pytest.mark.django_db
def test_behind_a_trusted_proxy_clients_are_counted_apart_by_the_address_it_saw(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        answer = sign_in(client, f"a-{i}", HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy)
        assert answer.status_code == 200
    # Another client behind the same proxy is not paused by the first one's failures...
    assert sign_in(client, "b", HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 200
    # ...and the first is at its tenth, even when it prepends an address of its own.
    forged = sign_in(client, "a-last", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.1", **proxy)
    assert forged.status_code == 429
    assert SecurityEvent.objects.filter(ip="203.0.113.1").count() >= settings.AXES_FAILURE_LIMIT


@pytest.mark.django_db
def test_the_request_log_line_names_the_address_as_the_lockout_reads_it(client, settings):
    import structlog.testing

    settings.TRUSTED_PROXY_COUNT = 1
    client.force_login(AccountManagerFactory())
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
        client.get(
            "/health/live/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.44"
        )
    (finished,) = [e for e in events if e["event"] == "request_finished"]
    assert finished["ip"] == "203.0.113.44"
