"""The webhooks API: directors and administrators only; the secret in the answer that makes
or rotates it and never again; test events, replays and the delivery log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from api.services import api_token_issue
from clients.events import client_data
from tests.factories import AdministratorFactory, ClientFactory, DirectorFactory, clients_created
from tests.webhook_receiver import receiver
from webhooks import services
from webhooks.events import EVENT_TYPES
from webhooks.models import Delivery, Endpoint
from webhooks.relay import deliveries_send

pytestmark = pytest.mark.django_db

LIST = reverse("webhook-endpoint-list")


def detail(endpoint: Endpoint, suffix: str = "") -> str:
    return reverse("webhook-endpoint-detail", args=[endpoint.pk]) + suffix


@pytest.fixture
def as_director(api):
    api.force_login(DirectorFactory())
    return api


@pytest.fixture
def local(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


def test_managers_and_anonymous_callers_are_refused(api, manager_a):
    endpoint = services.endpoint_create(
        url="https://example.com/h", event_types=["client.created"], by=DirectorFactory()
    )
    assert api.get(LIST).status_code == 401
    api.force_login(manager_a)
    assert api.get(LIST).status_code == 403
    assert api.get(detail(endpoint)).status_code == 403
    assert api.post(detail(endpoint, "rotate-secret/")).status_code == 403
    assert api.delete(detail(endpoint)).status_code == 403
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_secret_is_in_the_creation_answer_and_never_again(as_director):
    made = as_director.post(
        LIST,
        {
            "url": "https://example.com/hook",
            "event_types": ["client.created"],
            "description": "CRM",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["secret"].startswith("whsec_")
    endpoint = Endpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"]
    read = as_director.get(detail(endpoint)).json()
    assert "secret" not in read
    assert read["event_types"] == ["client.created"]
    assert all("secret" not in row for row in as_director.get(LIST).json()["results"])
    rotated = as_director.post(detail(endpoint, "rotate-secret/")).json()
    endpoint.refresh_from_db()
    assert rotated["secret"] == endpoint.secret != body["secret"]
    assert endpoint.previous_secret == body["secret"]
    assert rotated["previous_secret_expires_at"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "https://example.com/h", "event_types": ["client.exploded"]}, "event_types"),
        ({"url": "https://example.com/h", "event_types": []}, "event_types"),
        ({"url": "https://example.com/h", "event_types": "client.created"}, "event_types"),
        ({"url": "not a url", "event_types": ["client.created"]}, "url"),
        ({"url": "http://example.com/h", "event_types": ["client.created"]}, "url"),
        ({"url": "https://10.0.0.1/h", "event_types": ["client.created"]}, "url"),
        ({"event_types": ["client.created"]}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(as_director, settings, payload, field):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    answer = as_director.post(LIST, payload, format="json")
    assert answer.status_code == 400
    assert field in str(answer.json())
    assert not Endpoint.objects.exists()


def test_a_director_changes_pauses_and_deletes_an_endpoint(as_director):
    endpoint = services.endpoint_create(
        url="https://example.com/h", event_types=["client.created"], by=DirectorFactory()
    )
    changed = as_director.patch(
        detail(endpoint), {"event_types": ["client.archived"], "is_active": False}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["client.archived"]
    assert not endpoint.is_active
    assert as_director.delete(detail(endpoint)).status_code == 204
    assert not Endpoint.objects.exists()


def test_an_administrators_token_manages_endpoints(api):
    _token, key = api_token_issue(user=AdministratorFactory(), name="ops")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(LIST).status_code == 200


def test_test_events_replays_and_the_delivery_log(as_director, local):
    with receiver() as hook:
        endpoint = services.endpoint_create(
            url=hook.url, event_types=["client.created"], by=DirectorFactory()
        )
        assert as_director.post(detail(endpoint, "test/")).status_code == 202
        deliveries_send()
        log = as_director.get(detail(endpoint, "deliveries/")).json()
        (row,) = log["results"]
        assert row["event_type"] == "webhook.test"
        assert (row["status_code"], row["number"], row["delivery_state"]) == (200, 1, "delivered")
        assert row["latency_ms"] >= 0
        replay = reverse("webhook-endpoint-delivery-replay", args=[endpoint.pk, row["delivery"]])
        assert as_director.post(replay).status_code == 202
        deliveries_send()
        assert len(hook.requests) == 2
        since = as_director.post(
            detail(endpoint, "replay/"), {"since": "2020-01-01T00:00:00Z"}, format="json"
        )
        assert since.json() == {"queued": 0}  # only its types: the test event is not one
        bad = as_director.post(detail(endpoint, "replay/"), {"since": "yesterday"}, format="json")
        assert bad.status_code == 400
        assert "since" in str(bad.json())


def test_a_replay_since_a_moment_queues_the_endpoints_events_from_then(
    as_director, local, manager_a
):
    with receiver() as hook:
        endpoint = services.endpoint_create(
            url=hook.url, event_types=["client.created"], by=DirectorFactory()
        )
        ClientFactory()  # (made by a factory: no event)
        clients_created(manager_a, "Aurora Varejo", "Boreal Cobranças")
        deliveries_send()
        first = {r.headers["webhook-id"]: r.body for r in hook.requests}
        assert len(first) == 2
        since = Delivery.objects.order_by("created_at").last().created_at  # the second's
        queued = as_director.post(
            detail(endpoint, "replay/"), {"since": since.isoformat()}, format="json"
        )
        assert (queued.status_code, queued.json()) == (202, {"queued": 1})
        deliveries_send()
        everything = as_director.post(
            detail(endpoint, "replay/"), {"since": "2020-01-01T00:00:00Z"}, format="json"
        )
        assert everything.json() == {"queued": 2}
        deliveries_send()
        again = hook.requests[2:]
        assert len(again) == 3  # the second event, then both
        for request in again:
            assert first[request.headers["webhook-id"]] == request.body


def test_another_endpoints_delivery_cannot_be_replayed_through_this_one(as_director):
    director = DirectorFactory()
    mine = services.endpoint_create(
        url="https://example.com/a", event_types=["client.created"], by=director
    )
    other = services.endpoint_create(
        url="https://example.com/b", event_types=["client.created"], by=director
    )
    services.event_record("client.created", client_data(ClientFactory()))
    theirs = Delivery.objects.get(endpoint=other)
    replay = reverse("webhook-endpoint-delivery-replay", args=[mine.pk, theirs.pk])
    assert as_director.post(replay).status_code == 404


def test_the_event_types_are_listed_with_their_fields(as_director):
    listed = as_director.get(reverse("webhook-endpoint-event-types")).json()
    assert [t["name"] for t in listed] == list(EVENT_TYPES)
    assert listed[0]["fields"] == list(EVENT_TYPES[listed[0]["name"]].fields)


@pytest.mark.parametrize("size", [3, 30])
def test_the_list_costs_the_same_queries_for_3_and_30_endpoints(as_director, count_queries, size):
    director = DirectorFactory()
    for i in range(size):
        services.endpoint_create(
            url=f"https://example.com/{i}", event_types=["client.created"], by=director
        )
    with count_queries() as captured:
        answer = as_director.get(LIST)
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == size
    assert captured.count <= 4  # session with its user, the page of endpoints (their counts in it)
