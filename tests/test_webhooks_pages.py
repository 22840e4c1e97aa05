"""Webhook endpoints in the browser: directors and administrators only; the secret shown on
the one page after it is made; nothing typed is lost on a refusal; test, rotate, replay,
delete."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AdministratorFactory, DirectorFactory, clients_created
from tests.webhook_receiver import receiver
from webhooks import services
from webhooks.models import Delivery, Endpoint
from webhooks.relay import deliveries_send

pytestmark = pytest.mark.django_db

LIST = reverse("webhooks:list")
CREATE = reverse("webhooks:create")


@pytest.fixture
def director_browser(client):
    client.force_login(DirectorFactory())
    return client


def an_endpoint(**fields) -> Endpoint:
    return services.endpoint_create(
        url=fields.pop("url", "https://example.com/hook"),
        event_types=fields.pop("event_types", ["client.created"]),
        by=DirectorFactory(),
        **fields,
    )


def test_managers_get_403_on_every_webhook_page(client, manager_a):
    endpoint = an_endpoint()
    client.force_login(manager_a)
    for url in (LIST, CREATE, reverse("webhooks:detail", args=[endpoint.pk])):
        assert client.get(url).status_code == 403
    for name in ("delete", "rotate", "test", "replay"):
        assert client.post(reverse(f"webhooks:{name}", args=[endpoint.pk])).status_code == 403
    assert Endpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret


def test_anonymous_visitors_are_sent_to_sign_in(client):
    answer = client.get(LIST)
    assert answer.status_code == 302
    assert reverse("accounts:login") in answer["Location"]


def test_the_empty_list_says_what_webhooks_are_for(director_browser):
    page = director_browser.get(LIST).content.decode()
    assert "No endpoint yet" in page
    assert CREATE in page


def test_a_director_adds_an_endpoint_and_sees_its_secret_once(director_browser):
    answer = director_browser.post(
        CREATE,
        {"url": "https://crm.example.com/hooks", "description": "CRM",
         "event_types": ["client.created", "assessment.submitted"], "is_active": "on"},
    )  # fmt: skip
    endpoint = Endpoint.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("webhooks:detail", args=[endpoint.pk])
    first = director_browser.get(answer["Location"]).content.decode()
    assert endpoint.secret in first
    again = director_browser.get(answer["Location"]).content.decode()
    assert endpoint.secret not in again
    assert endpoint.event_types == ["assessment.submitted", "client.created"]
    listed = director_browser.get(LIST).content.decode()
    assert "https://crm.example.com/hooks" in listed
    assert endpoint.secret not in listed


def test_a_refused_endpoint_keeps_what_was_typed(director_browser, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    answer = director_browser.post(
        CREATE,
        {"url": "http://10.0.0.7/hooks", "description": "Warehouse loader",
         "event_types": ["client.archived"]},
    )  # fmt: skip
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "The URL must start with https://." in page
    assert 'value="http://10.0.0.7/hooks"' in page
    assert 'value="Warehouse loader"' in page
    assert re.search(r'value="client.archived"[^>]* checked', page)
    assert not re.search(r'value="client.created"[^>]* checked', page)
    assert not Endpoint.objects.exists()
    nothing = director_browser.post(CREATE, {"url": "ftp://example.com/h"}).content.decode()
    # Both problems at once, not the URL's only after the events are chosen.
    assert "Choose at least one event type." in nothing
    assert "The URL must start with https://." in nothing


def test_an_administrator_edits_rotates_and_deletes(client):
    client.force_login(AdministratorFactory())
    endpoint = an_endpoint()
    old = endpoint.secret
    edit = reverse("webhooks:edit", args=[endpoint.pk])
    assert "https://example.com/hook" in client.get(edit).content.decode()
    client.post(edit, {"url": "https://example.com/v2", "event_types": ["client.updated"]})
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types, endpoint.is_active) == (
        "https://example.com/v2",
        ["client.updated"],
        False,  # the box was left unticked
    )
    rotated = client.post(reverse("webhooks:rotate", args=[endpoint.pk]), follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in rotated.content.decode()
    assert "previous secret also signs" in rotated.content.decode()
    client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert not Endpoint.objects.exists()


def test_a_test_event_shows_up_in_the_log_and_can_be_sent_again(director_browser, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with receiver() as hook:
        endpoint = an_endpoint(url=hook.url)
        page = reverse("webhooks:detail", args=[endpoint.pk])
        assert "Nothing sent yet" in director_browser.get(page).content.decode()
        director_browser.post(reverse("webhooks:test", args=[endpoint.pk]))
        deliveries_send()
        shown = director_browser.get(page).content.decode()
        assert "webhook.test" in shown
        assert ">200<" in shown
        delivery = Delivery.objects.get()
        director_browser.post(reverse("webhooks:delivery_replay", args=[endpoint.pk, delivery.pk]))
        deliveries_send()
        assert len(hook.requests) == 2


def test_a_replay_since_a_moment_sends_the_events_again_and_says_how_many(
    director_browser, settings, manager_a
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with receiver() as hook:
        endpoint = an_endpoint(url=hook.url)
        before = timezone.now()
        clients_created(manager_a, "Aurora Varejo", "Boreal Cobranças")
        deliveries_send()
        assert len(hook.requests) == 2
        answer = director_browser.post(
            reverse("webhooks:replay", args=[endpoint.pk]),
            {"since": timezone.localtime(before).strftime("%Y-%m-%dT%H:%M:%S")},
            follow=True,
        )
        assert "2 events queued again." in answer.content.decode()
        deliveries_send()
        first, again = hook.requests[:2], hook.requests[2:]
        assert sorted(r.headers["webhook-id"] for r in again) == sorted(
            r.headers["webhook-id"] for r in first
        )
        assert sorted(r.body for r in again) == sorted(r.body for r in first)


def test_a_replay_with_a_bad_moment_answers_400_on_the_page(director_browser):
    endpoint = an_endpoint()
    answer = director_browser.post(
        reverse("webhooks:replay", args=[endpoint.pk]), {"since": "not a date"}
    )
    assert answer.status_code == 400
    assert "Enter a valid date/time." in answer.content.decode()


def test_a_test_event_to_a_paused_endpoint_is_refused_with_a_reason(director_browser):
    endpoint = an_endpoint(is_active=False)
    answer = director_browser.post(reverse("webhooks:test", args=[endpoint.pk]), follow=True)
    assert "Turn the endpoint on to send it a test event." in answer.content.decode()
    assert not Delivery.objects.exists()
