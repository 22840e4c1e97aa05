"""Outside DEBUG a webhook goes only to https:// and a public address: checked when the
endpoint is saved and again, after resolving the name, on every request (the request goes
to the address that was checked)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

from clients.events import client_data
from tests.factories import ClientFactory, DirectorFactory
from tests.test_settings import run_manage
from tests.webhook_receiver import receiver
from webhooks import services
from webhooks.models import Attempt
from webhooks.relay import deliveries_send
from webhooks.transport import Refused, post, resolve, url_problem


@pytest.fixture
def public_only(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    return settings


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        # IPv6 addresses that lead to private IPv4 ones: NAT64, 6to4, mapped.
        "https://[64:ff9b::a00:1]/hook",  # 10.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/hook",  # 169.254.169.254
        "https://[2002:a00:1::1]/hook",  # 10.0.0.1
        "https://[2002:7f00:1::1]/hook",  # 127.0.0.1
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "ftp://example.com/hook",
        "https:///hook",
    ],
)
def test_private_addresses_and_plain_http_are_refused(public_only, url):
    assert url_problem(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "https://93.184.216.34:8443/x",
        "https://[64:ff9b::5db8:d822]/hook",  # NAT64 of 93.184.216.34
        "https://[2606:4700::1111]/hook",
    ],
)
def test_public_https_urls_are_accepted(public_only, url):
    assert url_problem(url) is None


def test_a_name_that_resolves_to_loopback_is_refused_when_sending(public_only):
    with pytest.raises(Refused, match="not a public address"):
        resolve("localhost", 443)


def test_a_name_with_one_private_address_among_public_ones_is_refused(public_only, monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443)),
    ]
    # The edge: the resolver of the world this test cannot reach.
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(Refused, match=re.escape("10.0.0.5")):
        resolve("rebinding.example", 443)


def test_a_name_that_takes_too_long_to_resolve_is_given_up_within_the_connect_timeout(
    settings, monkeypatch
):
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    answered = threading.Event()

    def slow_resolver(*args, **kwargs):  # the edge again: a DNS server that hangs
        time.sleep(3)
        answered.set()
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]

    monkeypatch.setattr(socket, "getaddrinfo", slow_resolver)
    started = time.monotonic()
    with pytest.raises(Refused, match="did not resolve within 1 s"):
        post("https://slow-dns.example/hook", b"{}", {})
    assert 0.9 < time.monotonic() - started < 2
    assert not answered.is_set()  # given up on, not waited for


def test_a_receiver_that_never_accepts_is_given_up_at_the_connect_timeout(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_TIMEOUT_SECONDS = 5
    with socket.socket() as server, socket.socket() as queued:
        server.bind(("127.0.0.1", 0))
        server.listen(0)  # a queue of one, never accepted: the next SYN goes unanswered
        port = server.getsockname()[1]
        queued.connect(("127.0.0.1", port))
        started = time.monotonic()
        answer = post(f"http://127.0.0.1:{port}/hook", b"{}", {})
        elapsed = time.monotonic() - started
    assert (answer.status, answer.error) == (None, "connect timeout")
    assert 0.9 < elapsed < 2.5  # the connect timeout, not the total's 5 s


def test_the_timeouts_default_to_the_issues_figures():
    """Connect 3 s, the whole request 10 s, retries for 72 hours (issue 15), read from a
    process with none of them set."""
    code = (
        "from django.conf import settings as s; "
        "print(s.WEBHOOK_CONNECT_TIMEOUT_SECONDS, s.WEBHOOK_TIMEOUT_SECONDS, "
        "s.WEBHOOK_RETRY_HOURS)"
    )
    result = run_manage(
        "shell", "-v", "0", "-c", code, env={"DEBUG": "true"}, unset_prefix="WEBHOOK_"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["3", "10", "72"]


@pytest.mark.django_db
def test_the_relay_records_a_refused_request_and_sends_nothing(settings):
    with receiver() as hook:
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # a receiver here could be saved...
        services.endpoint_create(
            url=hook.url.replace("127.0.0.1", "localhost"),
            event_types=["client.created"],
            by=DirectorFactory(),
        )
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # ...but production will not call it
        services.event_record("client.created", client_data(ClientFactory()))
        report = deliveries_send()
        assert report.failed == 1
        assert hook.requests == []
        attempt = Attempt.objects.get()
        assert attempt.status_code is None
        assert attempt.error.startswith("refused:")


@contextmanager
def trickling(head: bytes, then: bytes) -> Iterator[str]:
    """A receiver on loopback that answers ``head`` at once, then ``then`` a byte every
    0.2 s: each read waits less than any read timeout, their sum much longer."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(head)
            for byte in then:
                if stop.wait(0.2):
                    return
                with suppress(OSError):
                    connection.sendall(bytes([byte]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        server.close()
        thread.join(5)


@pytest.mark.parametrize(
    ("head", "then", "status"),
    [
        # The head itself, a line at a time: no status is ever complete.
        (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 100 + b"\r\n", None),
        # A status at once, then a body that never ends: the status is kept.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", b"b" * 100, 200),
    ],
)
def test_a_receiver_that_trickles_is_cut_off_at_the_total_timeout(settings, head, then, status):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with trickling(head, then) as url:
        started = time.monotonic()
        answer = post(url, b"{}", {"Content-Type": "application/json"})
        elapsed = time.monotonic() - started
    assert elapsed < 2, elapsed  # (20 s of trickle; the timeout's 1 s and a little)
    assert answer.status == status
    if status is None:
        assert answer.error == "timeout: no complete answer within 1 s"
