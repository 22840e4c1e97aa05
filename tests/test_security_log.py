"""The security log: what is recorded (sign-ins, failures, sign-outs, tokens, refusals,
exports), the directors' page with its filters, and its JSON-lines export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import SecurityEvent, SecurityEventKind
from api.models import ApiToken
from api.services import api_token_issue
from tests.factories import PASSWORD, AccountManagerFactory, AdministratorFactory, DirectorFactory

pytestmark = pytest.mark.django_db

LOG = reverse("accounts:security_log")
EXPORT = reverse("accounts:security_log_export")


def kinds() -> list[str]:
    return list(SecurityEvent.objects.order_by("at", "id").values_list("kind", flat=True))


def test_signing_in_failing_and_signing_out_are_recorded_with_address_and_browser(client):
    user = AccountManagerFactory()
    login = reverse("accounts:login")
    agent = {"REMOTE_ADDR": "203.0.113.5", "HTTP_USER_AGENT": "Firefox/140"}
    client.post(login, {"username": "Not-" + user.username, "password": "x"}, **agent)
    client.post(login, {"username": user.username, "password": PASSWORD}, **agent)
    client.post(reverse("accounts:logout"), **agent)
    assert kinds() == ["login_failed", "login", "logout"]
    failed, signed_in, _ = SecurityEvent.objects.order_by("at", "id")
    assert failed.username == "Not-" + user.username
    assert failed.user is None
    assert signed_in.user == user
    assert signed_in.ip == "203.0.113.5"
    assert signed_in.user_agent == "Firefox/140"
    assert "password" not in json.dumps(failed.detail)


def test_tokens_issued_and_revoked_in_the_admin_are_recorded_with_who_did_it(client):
    owner = AccountManagerFactory()
    token, _raw = api_token_issue(user=owner, name="crm")
    admin = AdministratorFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    issued, revoked = SecurityEvent.objects.filter(
        kind__in=[SecurityEventKind.TOKEN_ISSUED, SecurityEventKind.TOKEN_REVOKED]
    ).order_by("at", "id")
    assert (issued.kind, issued.user, issued.detail["token"]) == ("token_issued", owner, token.pk)
    assert (revoked.kind, revoked.user, revoked.detail["by"]) == ("token_revoked", owner, admin.pk)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_refused_page_and_a_refused_api_call_are_recorded(client):
    manager = AccountManagerFactory()
    client.force_login(manager)
    assert client.get(LOG).status_code == 403
    _token, raw = api_token_issue(user=manager, name="bi", read_only=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.post("/api/v1/clients/", {}, format="json").status_code == 403
    refused = SecurityEvent.objects.filter(kind=SecurityEventKind.PERMISSION_DENIED)
    assert sorted(refused.values_list("path", flat=True)) == [
        "/accounts/security/",
        "/api/v1/clients/",
    ]
    assert {event.user for event in refused} == {manager}


def test_an_export_is_recorded_with_its_filters(client):
    director = DirectorFactory()
    client.force_login(director)
    response = client.get(reverse("dashboards:export", args=["levels"]), {"segment": "banking"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = SecurityEvent.objects.get(kind=SecurityEventKind.EXPORT)
    assert event.user == director
    assert event.detail["export"] == "levels.csv"
    assert event.detail["filters"] == {"segment": ["banking"]}


def test_the_log_is_for_directors_and_administrators(client):
    assert client.get(LOG).status_code == 302
    for user, status in (
        (AccountManagerFactory(), 403),
        (DirectorFactory(), 200),
        (AdministratorFactory(), 200),
    ):
        client.force_login(user)
        assert client.get(LOG).status_code == status
        assert client.get(EXPORT).status_code == status


def event(kind, username, *, ip="192.0.2.1", days_ago=0, **detail):
    return SecurityEvent.objects.create(
        kind=kind,
        username=username,
        ip=ip,
        at=timezone.now() - timedelta(days=days_ago),
        detail=detail,
    )


def test_the_page_filters_by_event_user_address_and_dates(client):
    event(SecurityEventKind.LOGIN_FAILED, "ana", ip="198.51.100.7", days_ago=3)
    event(SecurityEventKind.LOGIN_FAILED, "bruno", days_ago=1)
    event(SecurityEventKind.LOGIN, "ana")
    client.force_login(DirectorFactory(username="boss"))
    page = lambda **q: client.get(LOG, q).context["page"].object_list  # noqa: E731
    assert [e.username for e in page(kind="login_failed")] == ["bruno", "ana"]
    assert [e.kind for e in page(username="AN")] == ["login", "login_failed"]
    assert [e.username for e in page(ip="198.51.100.7")] == ["ana"]
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert {e.username for e in page(since=since, kind="login_failed")} == {"bruno"}
    empty = client.get(LOG, {"username": "nobody"})
    assert "No event matches these filters" in empty.content.decode()


def test_a_mistyped_filter_is_explained_not_a_500(client):
    client.force_login(DirectorFactory())
    response = client.get(LOG, {"ip": "300.1.1.1", "since": "yesterday"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Enter a valid IPv4 or IPv6 address." in text
    assert "Enter a valid date." in text
    assert client.get(EXPORT, {"ip": "nope"}).status_code == 400


def test_the_page_reads_the_same_statements_for_few_and_many_events(
    client, django_assert_num_queries
):
    client.force_login(DirectorFactory())
    for i in range(3):
        event(SecurityEventKind.LOGIN, f"user{i}")
    with django_assert_num_queries(4) as few:  # session with user, count, page, the bell
        client.get(LOG)
    SecurityEvent.objects.bulk_create(
        SecurityEvent(kind=SecurityEventKind.LOGIN, username=f"u{i}") for i in range(120)
    )
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(LOG, {"page": 2})
    assert len(response.context["page"].object_list) == 50


def test_the_export_is_json_lines_oldest_first_filtered_and_recorded(client):
    event(SecurityEventKind.LOGIN_FAILED, "ana", days_ago=2)
    event(SecurityEventKind.LOGIN, "ana", days_ago=1)
    event(SecurityEventKind.LOGIN_FAILED, "bruno")
    director = DirectorFactory()
    client.force_login(director)
    response = client.get(EXPORT, {"kind": "login_failed"})
    assert response["Content-Type"].startswith("application/jsonl")
    lines = [
        json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()
    ]
    assert [(line["event"], line["username"]) for line in lines] == [
        ("login_failed", "ana"),
        ("login_failed", "bruno"),
    ]
    recorded = SecurityEvent.objects.get(kind=SecurityEventKind.EXPORT)
    assert recorded.user == director
    assert recorded.detail == {"export": "security_log.jsonl", "filters": {"kind": "login_failed"}}


def test_the_menu_links_the_log_for_directors_only(client):
    client.force_login(AccountManagerFactory())
    assert LOG not in client.get(reverse("web:home")).content.decode()
    other = Client()
    other.force_login(DirectorFactory())
    assert LOG in other.get(reverse("web:home")).content.decode()
