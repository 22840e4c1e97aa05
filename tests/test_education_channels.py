"""Notification channels: a throwaway channel is one class and one registry line, and it
is written, relayed, retried and counted like e-mail — no other code knows about it."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from clients.models import Phase
from education import channels, services
from education.channels import Channel, Recipient
from education.models import Delivery, DeliveryState, Notification, NotificationKind
from ops import selectors
from tests.factories import EngagementFactory, email_of, submitted_assessment

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver we start ourselves on loopback; ``fail`` makes it answer 503."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.fail:
                    self.send_response(503)
                else:
                    receiver.bodies.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()
    started.server.server_close()


@pytest.fixture
def chat(receiver, monkeypatch):
    """The throwaway channel: posts a notification's key and kind to the receiver, for
    recipients on the chat workspace's domain (a channel decides whom it reaches)."""

    class Chat(Channel):
        name = "chat"
        label = "Chat"

        @classmethod
        def reaches(cls, recipient: Recipient) -> bool:
            return recipient.email.endswith("@chat.example")

        def send(self, notification: Notification) -> None:
            body = json.dumps({"key": notification.idempotency_key, "kind": notification.kind})
            request = urllib.request.Request(
                receiver.url, body.encode(), {"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=5).close()  # raises on a 5xx

    monkeypatch.setitem(channels.CHANNELS, Chat.name, Chat)  # the one registry line
    return Chat


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client, phase=Phase.OPERATION)


def on_chat(user):
    user.email = f"{user.username}@chat.example"
    user.save()
    return user


def test_the_registry_lists_email_and_in_app():
    assert set(channels.CHANNELS) == {"in_app", "email"}
    assert [c.name for c in channels.relayed()] == ["email"]
    assert channels.for_recipient(Recipient(1, "a@example.com")) == ("email",)
    assert channels.for_recipient(Recipient(1, "")) == ()  # in the app only


def test_a_throwaway_channel_works_end_to_end(chat, receiver, engagement, manager_a):
    # A plan built for a submitted assessment tells its owner, through every channel.
    owner = on_chat(manager_a)
    services.plan_build(plan_id=submitted_assessment(engagement, level=2).education_plan.pk)
    notice = Notification.objects.get(kind=NotificationKind.PLAN_READY)
    assert notice.recipient == owner
    assert set(notice.deliveries.values_list("channel", flat=True)) == {"email", "chat"}

    report = services.notifications_relay()
    assert report.sent == 2
    assert receiver.bodies == [{"key": notice.idempotency_key, "kind": "plan_ready"}]
    assert len(mail.outbox) == 1
    assert set(notice.deliveries.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert services.notifications_relay().sent == 0  # each delivery once


def test_a_throwaway_channel_reaches_only_whom_it_says(chat, manager_a, manager_b):
    on_chat(manager_a)
    rows = [
        services.notification_for(recipient=user, kind="digest", key=f"d.{user.pk}")
        for user in (manager_a, manager_b)
    ]
    services.notifications_write(rows)
    for user in (manager_a, manager_b):
        through = set(
            Delivery.objects.filter(notification__recipient=user).values_list("channel", flat=True)
        )
        assert through == ({"email", "chat"} if user == manager_a else {"email"})


def test_a_failing_channel_is_retried_on_its_own_row(chat, receiver, manager_a, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    owner = on_chat(manager_a)
    services.notifications_write(
        [services.notification_for(recipient=owner, kind="digest", key="weekly")]
    )
    receiver.fail = True
    now = timezone.now()
    report = services.notifications_relay(now=now)
    assert (report.sent, report.failed) == (1, 1)  # e-mail went; chat waits
    notice = Notification.objects.get()
    assert email_of(notice).state == DeliveryState.SENT
    failed = Delivery.objects.get(channel="chat")
    assert failed.state == DeliveryState.PENDING
    assert "503" in failed.last_error
    box = selectors.outbox(now=now + timedelta(seconds=1))
    assert box.deliveries["chat"].backing_off == 1
    assert box.deliveries["email"].due == 0

    report = services.notifications_relay(now=now + timedelta(hours=1))
    assert report.gave_up == 1
    assert selectors.failures().sends == {"email": 0, "chat": 2}
    assert selectors.failures().given_up == {"email": 0, "chat": 1}

    receiver.fail = False
    assert services.deliveries_retry(ids=[failed.pk]) == 1
    assert services.notifications_relay().sent == 1
    assert receiver.bodies == [{"key": "weekly", "kind": "digest"}]
    assert len(mail.outbox) == 1  # the e-mail was not sent again


def test_a_delivery_for_a_channel_no_longer_registered_is_given_up(manager_a):
    services.notifications_write(
        [services.notification_for(recipient=manager_a, kind="digest", key="old")]
    )
    Delivery.objects.update(channel="pager")
    report = services.notifications_relay()
    assert report.gave_up == 1
    row = Delivery.objects.get()
    assert row.state == DeliveryState.FAILED
    assert "pager" in row.last_error


def test_the_api_shows_each_delivery_and_the_email_state(api, manager_a, manager_b):
    manager_b.email = ""
    manager_b.save()
    for user in (manager_a, manager_b):
        services.notifications_write(
            [services.notification_for(recipient=user, kind="digest", key=f"d{user.pk}")]
        )
    services.notifications_relay()
    api.force_login(manager_a)
    mine = api.get("/api/v1/notifications/").json()["results"]
    assert [(r["email_state"], [d["channel"] for d in r["deliveries"]]) for r in mine] == [
        ("sent", ["email"])
    ]
    assert mine[0]["sent_at"] == mine[0]["deliveries"][0]["sent_at"] is not None
    api.force_login(manager_b)
    theirs = api.get("/api/v1/notifications/").json()["results"]
    assert [(r["email_state"], r["deliveries"], r["sent_at"]) for r in theirs] == [
        ("skipped", [], None)
    ]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_email_state_to_deliveries_and_back(manager_a):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("education", "0002_plan_outbox"), ("education", "0003_deliveries")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        with connection.cursor() as cursor:
            for key, state, attempts, error in (
                ("sent", "sent", 1, ""),
                ("failing", "pending", 2, "SMTPException: refused"),
                ("no-address", "skipped", 0, ""),
            ):
                cursor.execute(
                    """INSERT INTO education_notification
                       (recipient_id, kind, idempotency_key, params, created_at, email_state,
                        attempts, last_error)
                       VALUES (%s, 'digest', %s, '{}', now(), %s, %s, %s)""",
                    [manager_a.pk, key, state, attempts, error],
                )
        executor = MigrationExecutor(connection)
        executor.migrate([after])
        # The models as they were then (later migrations add columns).
        then = executor.loader.project_state([after]).apps.get_model("education", "Delivery")
        rows = {
            d.notification.idempotency_key: (d.channel, d.state, d.attempts, d.last_error)
            for d in then.objects.select_related("notification")
        }
        assert rows == {
            "sent": ("email", "sent", 1, ""),
            "failing": ("email", "pending", 2, "SMTPException: refused"),
        }
        executor = MigrationExecutor(connection)
        executor.migrate([before])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT idempotency_key, email_state, attempts FROM education_notification"
                " ORDER BY idempotency_key"
            )
            assert cursor.fetchall() == [
                ("failing", "pending", 2),
                ("no-address", "skipped", 0),
                ("sent", "sent", 1),
            ]
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
