"""Webhooks end to end against a real receiver on 127.0.0.1: events recorded in their
cause's transaction, signed as Standard Webhooks says (checked with the same library a
receiver uses), retried with backoff, given up, endpoints turned off after a run of
failures (directors told), secrets rotated with a grace period, replays and test events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from clients import services as clients_services
from education.models import Notification, NotificationKind
from tests.factories import (
    AccountManagerFactory,
    AdministratorFactory,
    ClientFactory,
    DirectorFactory,
)
from tests.webhook_receiver import Received, Receiver, receiver
from webhooks import services
from webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Event
from webhooks.relay import deliveries_send, retry_delay

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(settings):
    """Loopback allowed (as in DEBUG) and short timeouts, so a slow receiver costs little."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    return settings


@pytest.fixture
def hook():
    with receiver() as running:
        yield running


def endpoint_for(hook: Receiver, *types: str, **fields) -> Endpoint:
    return services.endpoint_create(
        url=hook.url,
        event_types=types or ["client.created"],
        by=fields.pop("by", None) or DirectorFactory(),
        **fields,
    )


def verified(request: Received, secret: str) -> dict:
    """The payload, if ``secret`` signed the request (what a receiver does)."""
    return Webhook(secret).verify(request.body, request.headers)


def test_an_event_is_recorded_with_its_cause_and_delivered_signed(local, hook):
    endpoint = endpoint_for(hook, "client.created")
    client = clients_services.client_create(
        by=None, name="Aurora Varejo", owner=AccountManagerFactory(), segment="retail",
        size="large", country="BR",
    )  # fmt: skip
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.event.type == "client.created"
    report = deliveries_send()
    assert report.delivered == 1
    (request,) = hook.requests
    payload = verified(request, endpoint.secret)
    assert payload["type"] == "client.created"
    assert payload["version"] == 1
    assert payload["data"]["client"] == client.pk
    assert payload["data"]["name"] == "Aurora Varejo"
    assert payload["data"]["url"].endswith(f"/clients/{client.pk}/")
    assert request.headers["webhook-id"] == delivery.event.webhook_id
    assert request.headers["content-type"] == "application/json"
    # Another secret does not verify it: the signature is really the endpoint's.
    with pytest.raises(WebhookVerificationError):
        verified(request, services.secret_new())
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    attempt = Attempt.objects.get(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.response_excerpt == "ok"


def test_a_cause_rolled_back_leaves_no_event(local, hook):
    endpoint_for(hook, "client.created")
    owner = AccountManagerFactory()

    def fails_after_making_a_client() -> None:
        with transaction.atomic():
            clients_services.client_create(
                by=None, name="Nunca Existiu", owner=owner, segment="retail", size="large",
                country="BR",
            )  # fmt: skip
            raise RuntimeError("the request failed after the client was made")

    with pytest.raises(RuntimeError):
        fails_after_making_a_client()
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_only_active_endpoints_subscribed_to_the_type_get_a_delivery(local, hook):
    wants = endpoint_for(hook, "client.created", "client.archived")
    endpoint_for(hook, "client.updated")
    endpoint_for(hook, "client.created", is_active=False)
    client = ClientFactory()
    events = services.events_record(
        [("client.created", _client_data(client)), ("client.archived", _client_data(client))]
    )
    assert events == 2
    assert set(Delivery.objects.values_list("endpoint_id", "event__type")) == {
        (wants.pk, "client.created"),
        (wants.pk, "client.archived"),
    }
    # The event is kept even where nobody listens (a replay can send it later).
    services.event_record("client.updated", _client_data(client))
    assert Event.objects.count() == 3


def _client_data(client):
    from clients.events import client_data

    return client_data(client)


def test_a_failed_attempt_is_retried_later_with_backoff_then_delivered(local, hook):
    endpoint = endpoint_for(hook, "client.created")
    hook.script.statuses = [503]
    services.event_record("client.created", _client_data(ClientFactory()))
    before = timezone.now()
    report = deliveries_send()
    assert (report.delivered, report.failed) == (0, 1)
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status == 503
    wait = (delivery.next_attempt_at - before).total_seconds()
    base = local.WEBHOOK_RETRY_SECONDS
    assert 0.8 * base - 1 <= wait <= 1.2 * base + 1
    # Not due yet: nothing is sent.
    assert deliveries_send().delivered == 0
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliveries_send().delivered == 1
    first, second = hook.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the same message
    assert list(
        Attempt.objects.filter(delivery=delivery)
        .order_by("number")
        .values_list("number", "status_code")
    ) == [(1, 503), (2, 200)]
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    assert endpoint.failing_since is None


@pytest.mark.parametrize("attempts", [1, 2, 5, 10, 30])
def test_the_backoff_doubles_with_jitter_and_stops_growing_at_twelve_hours(settings, attempts):
    base = settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1)
    expected = min(base, 12 * 3600)
    waits = [retry_delay(attempts).total_seconds() for _ in range(50)]
    assert all(0.8 * expected <= wait <= 1.2 * expected for wait in waits)
    assert len(set(waits)) > 1  # jittered


def test_a_delivery_is_given_up_after_the_retry_window(local, hook):
    endpoint = endpoint_for(hook, "client.created")
    hook.script.status = 500
    services.event_record("client.created", _client_data(ClientFactory()))
    long_ago = timezone.now() - timedelta(hours=local.WEBHOOK_RETRY_HOURS)
    Delivery.objects.update(first_attempt_at=long_ago)
    report = deliveries_send()
    assert report.gave_up == 1
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.next_attempt_at is None


def test_a_slow_receiver_is_cut_off_at_the_timeout(local, hook):
    endpoint_for(hook, "client.created")
    hook.script.delay = 3
    services.event_record("client.created", _client_data(ClientFactory()))
    deliveries_send()
    attempt = Attempt.objects.get()
    assert attempt.status_code is None
    assert "timeout" in attempt.error
    assert 900 <= attempt.latency_ms < 2500


def test_a_refused_connection_is_logged_as_such(local):
    endpoint = services.endpoint_create(
        url="http://127.0.0.1:9/closed", event_types=["client.created"], by=DirectorFactory()
    )
    services.event_record("client.created", _client_data(ClientFactory()))
    deliveries_send()
    attempt = Attempt.objects.get(endpoint=endpoint)
    assert attempt.status_code is None
    assert attempt.error.startswith("could not connect:")
    assert "refused" in attempt.error.lower()


def test_a_redirect_is_not_followed(local, hook):
    endpoint_for(hook, "client.created")
    hook.script.status = 302
    hook.script.location = hook.url + "/elsewhere"
    services.event_record("client.created", _client_data(ClientFactory()))
    deliveries_send()
    assert [r.path for r in hook.requests] == ["/hooks"]  # the Location was never asked for
    attempt = Attempt.objects.get()
    assert attempt.status_code == 302
    assert "not followed" in attempt.error
    assert Delivery.objects.get().state == DeliveryState.PENDING


def test_only_the_start_of_a_large_answer_is_read_and_kept(local, hook):
    endpoint_for(hook, "client.created")
    hook.script.body = b"x" * 5_000_000
    services.event_record("client.created", _client_data(ClientFactory()))
    deliveries_send()
    attempt = Attempt.objects.get()
    assert attempt.status_code == 200
    assert attempt.response_excerpt == "x" * 1000


def test_a_long_run_of_failures_turns_the_endpoint_off_and_tells_directors(local, hook):
    local.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    local.WEBHOOK_DISABLE_AFTER_HOURS = 1
    director, admin, manager = DirectorFactory(), AdministratorFactory(), AccountManagerFactory()
    endpoint = endpoint_for(hook, "client.created", by=director)
    hook.script.status = 500
    for _ in range(4):
        services.event_record("client.created", _client_data(ClientFactory()))
    # Three failures, but the run is younger than an hour: still on.
    deliveries_send(max_deliveries=3)
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.consecutive_failures == 3
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=2)
    )
    report = deliveries_send()
    assert report.disabled == 1
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "HTTP 500"
    told = Notification.objects.filter(kind=NotificationKind.WEBHOOK_DISABLED)
    assert set(told.values_list("recipient", flat=True)) == {director.pk, admin.pk}
    assert manager.pk not in told.values_list("recipient", flat=True)
    # Off: what is due is not sent.
    Delivery.objects.update(next_attempt_at=timezone.now())
    sent = len(hook.requests)
    assert deliveries_send().delivered + deliveries_send().failed == 0
    assert len(hook.requests) == sent
    # On again, the receiver fixed: everything waiting goes at once.
    hook.script.status = 200
    services.endpoint_update(endpoint=endpoint, by=director, is_active=True)
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.consecutive_failures) == (None, 0)
    assert deliveries_send().delivered == 4
    assert told.count() == 2  # told once


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(local, hook):
    endpoint = endpoint_for(hook, "client.created")
    old = endpoint.secret
    new = services.endpoint_secret_rotate(endpoint=endpoint, by=DirectorFactory())
    assert new != old
    assert new.startswith("whsec_")
    services.event_record("client.created", _client_data(ClientFactory()))
    deliveries_send()
    (request,) = hook.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verified(request, old) == verified(request, new)
    # Once the grace period is over, only the new secret signs.
    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.event_record("client.created", _client_data(ClientFactory()))
    deliveries_send()
    later = hook.requests[1]
    assert verified(later, new)["type"] == "client.created"
    with pytest.raises(WebhookVerificationError):
        verified(later, old)


def test_a_delivery_is_replayed_with_the_same_webhook_id(local, hook):
    endpoint = endpoint_for(hook, "client.created")
    services.event_record("client.created", _client_data(ClientFactory()))
    deliveries_send()
    delivery = Delivery.objects.get(endpoint=endpoint)
    services.delivery_replay(delivery=delivery, by=DirectorFactory())
    assert deliveries_send().delivered == 1
    first, again = hook.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.body == again.body
    assert Attempt.objects.filter(delivery=delivery).count() == 2


def test_a_replay_since_a_moment_sends_what_was_missed_while_paused(local, hook):
    director = DirectorFactory()
    endpoint = endpoint_for(hook, "client.created", by=director)
    services.endpoint_update(endpoint=endpoint, by=director, is_active=False)
    start = timezone.now()
    for _ in range(3):
        services.event_record("client.created", _client_data(ClientFactory()))
    services.event_record("client.updated", _client_data(ClientFactory()))  # not its type
    assert not Delivery.objects.exists()
    services.endpoint_update(endpoint=endpoint, by=director, is_active=True)
    assert services.endpoint_replay_since(endpoint=endpoint, since=start, by=director) == 3
    assert deliveries_send().delivered == 3
    types = {json.loads(r.body)["type"] for r in hook.requests}
    assert types == {"client.created"}
    # Again: the same three, not three more rows.
    assert services.endpoint_replay_since(endpoint=endpoint, since=start, by=director) == 3
    assert Delivery.objects.count() == 3
    with pytest.raises(ValidationError):
        services.endpoint_replay_since(
            endpoint=endpoint, since=timezone.now() + timedelta(days=1), by=director
        )


def test_a_test_event_goes_to_that_endpoint_only(local, hook):
    director = DirectorFactory()
    endpoint = endpoint_for(hook, "client.created", by=director)
    endpoint_for(hook, "client.created")
    services.endpoint_test(endpoint=endpoint, by=director)
    assert deliveries_send().delivered == 1
    (request,) = hook.requests
    payload = verified(request, endpoint.secret)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["endpoint"] == endpoint.pk
    services.endpoint_update(endpoint=endpoint, by=director, is_active=False)
    with pytest.raises(ValidationError, match="Turn the endpoint on"):
        services.endpoint_test(endpoint=endpoint, by=director)


def test_endpoints_are_validated(local):
    director = DirectorFactory()
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(url="", event_types=[], by=director)
    assert set(refused.value.message_dict) == {"url", "event_types"}
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(
            url="https://example.com/hook", event_types=["client.exploded"], by=director
        )
    assert "client.exploded" in refused.value.message_dict["event_types"][0]
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(
            url="https://user:pw@example.com/", event_types=["client.created"], by=director
        )
    assert "url" in refused.value.message_dict
    made = services.endpoint_create(
        url=" https://example.com/hook ",
        event_types=["client.archived", "client.created", "client.created"],
        by=director,
    )
    assert made.url == "https://example.com/hook"
    assert made.event_types == ["client.created", "client.archived"]  # the registry's order


def test_an_attempt_that_outlived_its_lease_does_not_undo_the_next_workers_delivery(local, hook):
    """A request slower than its lease: meanwhile another worker claimed the delivery and
    delivered it. The late failure is logged as an attempt; the delivery stays delivered."""
    from webhooks.relay import SendReport, _claim, _record
    from webhooks.transport import Answer

    endpoint_for(hook, "client.created")
    services.event_record("client.created", _client_data(ClientFactory()))
    first = Delivery.objects.get(pk=_claim())  # what the slow worker read when it began
    started = timezone.now()
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())  # lease over
    assert deliveries_send().delivered == 1  # the second worker
    with transaction.atomic():
        _record(first, Answer(None, 75_000, "", "timeout"), started, SendReport())
    delivery = Delivery.objects.get(pk=first.pk)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.DELIVERED, 2, None,
    )  # fmt: skip
    assert list(
        Attempt.objects.filter(delivery=delivery).order_by("number").values_list("status_code")
    ) == [(200,), (None,)]
    assert Endpoint.objects.get().consecutive_failures == 0
    assert len(hook.requests) == 1


def test_a_submit_an_approval_and_a_completed_action_reach_a_receiver_signed_and_documented(
    local, hook, manager_a, a_client
):
    """Issue 15's first check, end to end: a real receiver subscribed to three types gets
    each event signed (verified as a receiver does), under its own webhook-id (the key a
    receiver deduplicates by: a replay brings the same one), in the documented shape."""
    from assessments.services import assessment_review
    from education import services as education_services
    from tests.factories import EngagementFactory, submitted_assessment
    from webhooks.events import EVENT_TYPES

    types = ["assessment.submitted", "assessment.approved", "education_action.completed"]
    endpoint = endpoint_for(hook, *types)
    engagement = EngagementFactory(client=a_client)
    assessment = submitted_assessment(engagement, level=3)
    assessment_review(assessment=assessment, by=DirectorFactory(), approve=True)
    action = education_services.action_create(
        engagement=engagement, by=manager_a, action_type="workshop", title="Kick-off",
        due_date=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    education_services.action_complete(action=action, by=manager_a, outcome="Held.")
    assert deliveries_send().delivered == 3
    payloads = {r.headers["webhook-id"]: verified(r, endpoint.secret) for r in hook.requests}
    assert sorted(p["type"] for p in payloads.values()) == sorted(types)
    for webhook_id, payload in payloads.items():
        kind = EVENT_TYPES[payload["type"]]
        assert (payload["version"], set(payload["data"])) == (kind.version, set(kind.fields))
        assert Event.objects.get(pk=webhook_id.removeprefix("msg_")).type == payload["type"]
    data = {p["type"]: p["data"] for p in payloads.values()}
    assert data["assessment.submitted"]["assessment"] == assessment.pk
    assert data["assessment.approved"]["status"] == "approved"
    assert data["education_action.completed"]["action"] == action.pk
    # Sent again, an event keeps its webhook-id: a receiver that has it skips it.
    first = Delivery.objects.get(event__type=types[0])
    services.delivery_replay(delivery=first, by=DirectorFactory())
    deliveries_send()
    again = hook.requests[-1]
    assert again.headers["webhook-id"] in payloads
    assert verified(again, endpoint.secret) == payloads[again.headers["webhook-id"]]
