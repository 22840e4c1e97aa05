"""Failure drills of the webhook relay and its outbox, with real workers, Redis and receivers
(issue 15).

Each runs a redis-server of its own (``tests.celery_process.PrivateRedis``), never the
shared one, and one worker with embedded beat (``tests.test_education_drill.Worker``).
Retries wait about ``RETRY_SECONDS`` doubled each time (``WEBHOOK_RETRY_SECONDS``) and a
claimed delivery is leased for ``LEASE_SECONDS`` (``WEBHOOK_LEASE_SECONDS``), so a drill
takes seconds where production would take minutes.

* Receiver down then back: an endpoint's receiver refuses connections while events are
  recorded; each delivery is retried on the backoff schedule, and when the receiver is
  back every event arrives there, signed, once — while a second endpoint, up all along,
  got every event at once.
* Kill drill: the receiver answers slowly and the worker is SIGKILLed mid-request three
  times and started again. No event is lost; the only copies the receiver gets are the
  interrupted requests, sent again after their lease, under the same ``webhook-id``.
* Redis down: the broker is stopped while events are caused. The causes commit without
  waiting on it (their deliveries wait in the outbox), nothing is sent while it is down,
  and when it is back the worker and beat send everything, once.

Run with ``-s`` to see the figures each drill prints.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections import defaultdict
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from clients import services as clients_services
from tests.celery_process import (
    PrivateRedis,
    broker,
    free_port,
    task_succeeded,
    wait_for,
)
from tests.factories import AccountManagerFactory, DirectorFactory
from tests.test_education_drill import Worker
from tests.webhook_receiver import Received, Receiver, receiver
from webhooks import services
from webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Event

pytestmark = [pytest.mark.django_db(transaction=True)]

SEND = "webhooks.tasks.send"
CLIENT_CREATED = "client.created"
DISPATCH_SECONDS = 1
RETRY_SECONDS = 2
CONNECT_TIMEOUT_SECONDS = 1
TIMEOUT_SECONDS = 3
LEASE_SECONDS = 6
# How late past its due time a retry may start: the next beat tick, the pass that claims
# it, and a busy two-core machine.
SCHEDULE_SLACK = DISPATCH_SECONDS + 3.0


def worker_env(redis_url: str, queue: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
        "WEBHOOK_DISPATCH_SECONDS": str(DISPATCH_SECONDS),
        "WEBHOOK_RETRY_SECONDS": str(RETRY_SECONDS),
        "WEBHOOK_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT_SECONDS),
        "WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
        # The drill's one (solo) worker does webhooks alone: the schedule is read from the
        # attempts' times, and another task would only delay them.
        "EDUCATION_DISPATCH_SECONDS": "3600",
        "DASHBOARD_REFRESH_SECONDS": "3600",
        "EDUCATION_DIGEST_WEEKDAY": str(today.isoweekday() % 7 + 1),
    }


def client_created(owner: Any, name: str) -> Event:
    """A client made through its service: the cause of one ``client.created`` event,
    recorded in the same transaction."""
    client = clients_services.client_create(
        by=None, name=name, owner=owner, segment="retail", size="large", country="BR"
    )
    return Event.objects.get(type=CLIENT_CREATED, payload__data__client=client.pk)


def received(hook: Receiver) -> list[Received]:
    with hook.lock:
        return list(hook.requests)


def by_webhook_id(requests: list[Received]) -> dict[str, list[Received]]:
    copies: dict[str, list[Received]] = defaultdict(list)
    for request in requests:
        copies[request.headers["webhook-id"]].append(request)
    return dict(copies)


def assert_signed_copies_of_their_events(
    requests: list[Received], endpoint: Endpoint, events: list[Event]
) -> dict[str, list[Received]]:
    """Every request carries the ``webhook-id`` of one of ``events`` and, signed with the
    endpoint's secret, exactly that event's payload: a copy is never a new message."""
    payloads = {event.webhook_id: event.payload for event in events}
    copies = by_webhook_id(requests)
    assert set(copies) <= set(payloads), "a request carried an id no event has"
    signer = Webhook(endpoint.secret)
    for webhook_id, same_id in copies.items():
        for request in same_id:
            assert signer.verify(request.body, request.headers) == payloads[webhook_id]
            assert request.body == same_id[0].body
    return copies


def assert_one_delivered_delivery_each(events: list[Event], endpoints: list[Endpoint]) -> None:
    deliveries = Delivery.objects.filter(event__in=events)
    pairs = list(deliveries.values_list("event_id", "endpoint_id"))
    assert sorted(pairs) == sorted((e.pk, p.pk) for e in events for p in endpoints)
    assert set(deliveries.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def settle(worker: Worker, passes: int = 3) -> None:
    """Wait for a few more of beat's passes: whatever they would send again, they have."""
    target = task_succeeded(worker.log, SEND) + passes
    wait_for(lambda: task_succeeded(worker.log, SEND) >= target, timeout=60, log=worker.log)


# --- The receiver down for a while, then back --------------------------------------------

DOWN_EVENTS = 5
# The receiver comes back once every delivery to it has failed this often: two retries,
# so the schedule shows its doubling.
FAILURES_WHILE_DOWN = 3


def retry_gaps(attempts: list[Attempt]) -> list[float]:
    """Seconds from each attempt's end (when its failure was recorded) to the next one's
    start: what ``retry_delay`` waited, plus how late the next pass claimed it."""
    return [
        (after.started_at - before.started_at).total_seconds() - before.latency_ms / 1000
        for before, after in itertools.pairwise(attempts)
    ]


def assert_on_the_retry_schedule(attempts: list[Attempt]) -> list[float]:
    """The n-th retry waited RETRY_SECONDS · 2ⁿ⁻¹, give or take a fifth (the jitter), and
    started within SCHEDULE_SLACK of falling due."""
    assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
    gaps = retry_gaps(attempts)
    for n, gap in enumerate(gaps, start=1):
        due = RETRY_SECONDS * 2 ** (n - 1)
        assert 0.8 * due - 0.05 <= gap <= 1.2 * due + SCHEDULE_SLACK, (
            f"retry {n} came {gap:.2f} s after the failure before it; due after {due} s ± 20 %"
        )
    return gaps


def test_a_receiver_down_for_a_while_gets_every_event_on_the_retry_schedule_when_back(
    postgres, redis_server, tmp_path
):
    began = time.monotonic()
    port = free_port()  # nothing listens here until the receiver comes back
    queue = f"drill-{uuid.uuid4().hex}"
    redis = PrivateRedis(log=tmp_path / "redis.log")
    worker = Worker(worker_env(redis.url, queue), tmp_path)
    owner, director = AccountManagerFactory(), DirectorFactory()
    facts: dict[str, Any] = {}
    with redis, receiver() as steady, broker(redis.url, queue):
        down = services.endpoint_create(
            url=f"http://127.0.0.1:{port}/hooks", event_types=[CLIENT_CREATED], by=director
        )
        up = services.endpoint_create(url=steady.url, event_types=[CLIENT_CREATED], by=director)
        to_down = Delivery.objects.filter(endpoint=down)
        try:
            worker.start()
            # Recorded while the receiver is down: each commit asks the worker to send.
            events = [client_created(owner, f"Receiver down {n}") for n in range(DOWN_EVENTS)]
            wait_for(
                lambda: to_down.filter(attempts__gte=FAILURES_WHILE_DOWN).count() == DOWN_EVENTS,
                timeout=90,
                log=worker.log,
            )
            # The endpoint up all along got everything meanwhile, unhindered by the other.
            steady_while_down = len(received(steady))
            with receiver(port) as back:
                back_at = timezone.now()  # from here on, a connection is accepted
                facts["down_for_s"] = round(time.monotonic() - began, 1)
                wait_for(
                    lambda: to_down.filter(state=DeliveryState.DELIVERED).count() == DOWN_EVENTS,
                    timeout=90,
                    log=worker.log,
                )
                facts["all_back_after_s"] = round((timezone.now() - back_at).total_seconds(), 1)
                settle(worker)
                received_back = received(back)
        finally:
            worker.stop()

    assert_one_delivered_delivery_each(events, [down, up])
    copies = assert_signed_copies_of_their_events(received_back, down, events)
    assert {i: len(c) for i, c in copies.items()} == {e.webhook_id: 1 for e in events}
    steady_copies = assert_signed_copies_of_their_events(received(steady), up, events)
    assert {i: len(c) for i, c in steady_copies.items()} == {e.webhook_id: 1 for e in events}
    assert steady_while_down == DOWN_EVENTS
    assert set(Delivery.objects.filter(endpoint=up).values_list("attempts", flat=True)) == {1}

    all_gaps = []
    for delivery in to_down:
        attempts = list(Attempt.objects.filter(delivery=delivery).order_by("number"))
        *failed, delivered = attempts
        assert len(failed) >= FAILURES_WHILE_DOWN
        assert delivery.attempts == len(attempts)
        for attempt in failed:
            assert attempt.status_code is None
            assert attempt.error.startswith("could not connect"), attempt.error
            assert attempt.started_at < back_at
        assert delivered.status_code == 200
        all_gaps.append(assert_on_the_retry_schedule(attempts))
    down.refresh_from_db()
    assert down.is_active
    assert down.consecutive_failures == 0  # the success ended the run of failures

    print(
        "\nRECEIVER DOWN DRILL:",
        f"{DOWN_EVENTS} events, total {time.monotonic() - began:.1f} s;",
        f"retry gaps (s) per delivery: {[[round(g, 1) for g in gaps] for gaps in all_gaps]}",
    )
    for name, value in facts.items():
        print(f"  {name}: {value}")


# --- Workers SIGKILLed mid-delivery -----------------------------------------------------------

KILL_EVENTS = 10
KILLS = 3
# The receiver holds each request this long before answering: a kill made as a request
# arrives lands while the worker waits for the answer (well within TIMEOUT_SECONDS).
RECEIVER_DELAY_SECONDS = 1.0


def test_sigkilled_workers_lose_no_event_and_resend_only_under_the_same_webhook_id(
    postgres, redis_server, tmp_path
):
    began = time.monotonic()
    queue = f"drill-{uuid.uuid4().hex}"
    # A Redis of the drill's own: each SIGKILL leaves the killed worker's unacknowledged
    # message behind, and that must not litter a shared one.
    redis = PrivateRedis(log=tmp_path / "redis.log")
    worker = Worker(worker_env(redis.url, queue), tmp_path)
    owner = AccountManagerFactory()
    kills: list[dict[str, Any]] = []
    with redis, receiver() as hook, broker(redis.url, queue):
        hook.script.delay = RECEIVER_DELAY_SECONDS
        endpoint = services.endpoint_create(
            url=hook.url, event_types=[CLIENT_CREATED], by=DirectorFactory()
        )
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        events = [client_created(owner, f"Kill drill {n}") for n in range(KILL_EVENTS)]
        try:
            worker.start()
            for _ in range(KILLS):
                # Two more requests: one answered since the last restart, one in flight.
                target = len(received(hook)) + 2
                wait_for(
                    lambda t=target: len(received(hook)) >= t,
                    timeout=90,
                    log=worker.log,
                    interval=0.005,
                )
                worker.kill()
                requests = received(hook)
                in_flight = requests[-1].headers["webhook-id"]
                delivery = deliveries.get(event__id=uuid.UUID(in_flight.removeprefix("msg_")))
                kills.append(
                    {
                        "in_flight": in_flight,
                        "copies_at_kill": len(by_webhook_id(requests)[in_flight]),
                        "received": len(requests),
                        "delivered": deliveries.filter(state=DeliveryState.DELIVERED).count(),
                        "state": delivery.state,
                        "leased": delivery.next_attempt_at is not None
                        and delivery.next_attempt_at > timezone.now(),
                    }
                )
                restarted, at_kill = time.monotonic(), len(requests)
                worker.start()
                wait_for(lambda n=at_kill: len(received(hook)) > n, timeout=90, log=worker.log)
                kills[-1]["resumed_after_s"] = round(time.monotonic() - restarted, 1)
            wait_for(
                lambda: deliveries.filter(state=DeliveryState.DELIVERED).count() == KILL_EVENTS,
                timeout=90,
                log=worker.log,
            )
            drained = time.monotonic() - began
            settle(worker)
        finally:
            worker.stop()

    requests = received(hook)
    for kill in kills:
        # Killed mid-request: the request reached the receiver, its answer was never
        # recorded, and the delivery stayed leased to the dead worker.
        assert kill["state"] == DeliveryState.PENDING, kill
        assert kill["leased"], kill
        assert kill["delivered"] < KILL_EVENTS, kill
    assert_one_delivered_delivery_each(events, [endpoint])
    copies = assert_signed_copies_of_their_events(requests, endpoint, events)
    assert set(copies) == {e.webhook_id for e in events}  # every event arrived
    interrupted = {kill["in_flight"] for kill in kills}
    duplicated = {webhook_id for webhook_id, same in copies.items() if len(same) > 1}
    assert duplicated <= interrupted  # only what a kill interrupted came twice
    for kill in kills:
        # ...and each interrupted request was sent again once its lease ran out.
        assert len(copies[kill["in_flight"]]) > kill["copies_at_kill"], kill
    # Every request the receiver got is a recorded attempt, but for the one each kill cut.
    recorded = Attempt.objects.filter(delivery__in=deliveries).count()
    assert len(requests) == recorded + len(kills)
    print(
        "\nKILL DRILL:",
        f"{KILL_EVENTS} events, {len(kills)} SIGKILLs, {worker.incarnations} worker",
        f"incarnations, drained in {drained:.1f} s, total {time.monotonic() - began:.1f} s;",
        f"{len(requests)} requests received, {len(requests) - KILL_EVENTS} of them copies",
        f"(of {len(duplicated)} events), {recorded} attempts recorded",
    )
    for kill in kills:
        print("  kill:", kill)


# --- Redis down -------------------------------------------------------------------------------

OUTAGE_SECONDS = 10
OUTAGE_EVENTS = 5


def test_events_caused_while_redis_is_down_wait_in_the_outbox_and_go_when_it_is_back(
    postgres, redis_server, tmp_path, caplog
):
    began = time.monotonic()
    queue = f"drill-{uuid.uuid4().hex}"
    redis = PrivateRedis(log=tmp_path / "redis.log")
    worker = Worker(worker_env(redis.url, queue), tmp_path)
    owner = AccountManagerFactory()
    facts: dict[str, Any] = {}
    with receiver() as hook, broker(redis.url, queue):
        endpoint = services.endpoint_create(
            url=hook.url, event_types=[CLIENT_CREATED], by=DirectorFactory()
        )
        deliveries = Delivery.objects.filter(endpoint=endpoint)
        try:
            redis.start()
            worker.start()
            started = time.monotonic()
            before = client_created(owner, "Before the outage")
            normal = time.monotonic() - started
            wait_for(
                lambda: deliveries.filter(state=DeliveryState.DELIVERED).count() == 1,
                timeout=90,
                log=worker.log,
            )

            # --- Redis goes away (and, saving nothing, comes back empty).
            redis.stop()
            down = time.monotonic()
            sends_at_outage = task_succeeded(worker.log, SEND)
            time.sleep(2 * DISPATCH_SECONDS)  # a pass under way when it went has finished
            took = []
            with caplog.at_level(logging.WARNING, logger="core.tasks"):
                during = []
                for n in range(OUTAGE_EVENTS):
                    started = time.monotonic()
                    during.append(client_created(owner, f"During the outage {n}"))
                    took.append(time.monotonic() - started)
            facts["create_seconds_with_redis_down"] = [round(t, 2) for t in took]
            assert any(
                "could not enqueue webhooks.tasks.send" in record.getMessage()
                for record in caplog.records
            )
            waiting = deliveries.filter(event__in=during)
            assert waiting.count() == OUTAGE_EVENTS  # committed, in the outbox
            while time.monotonic() - down < OUTAGE_SECONDS:
                time.sleep(0.5)
            facts["sends_during_outage"] = task_succeeded(worker.log, SEND) - sends_at_outage
            facts["worker_alive_after_outage"] = worker.alive()
            still_waiting = list(waiting.values_list("state", "attempts"))
            received_during_outage = len(received(hook))

            # --- Redis comes back on the same port.
            redis.start()
            back = time.monotonic()
            if not worker.alive():
                worker.start()
            wait_for(
                lambda: (
                    deliveries.filter(state=DeliveryState.DELIVERED).count() == OUTAGE_EVENTS + 1
                ),
                timeout=90,
                log=worker.log,
            )
            caught_up = time.monotonic() - back
            settle(worker)
        finally:
            worker.stop()
            redis.stop()

    # The causes did not wait on the broker beyond its bounded waits.
    bound = settings.REDIS_CONNECT_TIMEOUT + settings.REDIS_SOCKET_TIMEOUT + 1.0
    assert max(took) < normal + bound, (took, normal)
    # Nothing was sent while Redis was down: the deliveries waited in the outbox.
    assert still_waiting == [(DeliveryState.PENDING, 0)] * OUTAGE_EVENTS
    assert received_during_outage == 1
    # Back, Redis brought them out within a few of beat's ticks, once each.
    assert caught_up < 20, caught_up
    events = [before, *during]
    assert_one_delivered_delivery_each(events, [endpoint])
    copies = assert_signed_copies_of_their_events(received(hook), endpoint, events)
    assert {i: len(c) for i, c in copies.items()} == {e.webhook_id: 1 for e in events}
    assert set(deliveries.values_list("attempts", flat=True)) == {1}
    logs = worker.logs()
    print(
        "\nREDIS DOWN DRILL:",
        f"outage {OUTAGE_SECONDS} s, total {time.monotonic() - began:.1f} s,",
        f"worker incarnations {worker.incarnations}, normal create {normal * 1000:.0f} ms,",
        f"all sent {caught_up:.1f} s after Redis was back;",
        f"failed consumer reconnects: {logs.count('consumer: Cannot connect to')},",
        f"beat's failed reconnects: {logs.count('beat: broker unreachable')}",
    )
    for name, value in facts.items():
        print(f"  {name}: {value}")
