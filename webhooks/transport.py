"""One webhook request, safely: to a public address only (outside DEBUG), no redirects
followed, a bounded wait and a bounded read.

The request's whole time — the host name's lookup, connecting, sending, the answer's head
and the start of its body — is bounded by ``WEBHOOK_TIMEOUT_SECONDS``: the lookup (which
takes no timeout of its own) waits at most ``WEBHOOK_CONNECT_TIMEOUT_SECONDS`` on a thread
of its own, and a timer shuts the connection's socket when the total runs out. urllib3's
read timeout alone bounds each read, not their sum, so a receiver that trickles a byte a
second would hold the worker (and outlive the delivery's lease).

The host is resolved here and the connection made to the address that was checked (with
the host name kept for TLS and the ``Host`` header), so a name that resolves to a public
address when checked cannot point to an internal one when connected (DNS rebinding).
Loopback, private, link-local (the cloud metadata service), multicast, reserved and
unspecified addresses — and IPv6 addresses that lead to such an IPv4 one (NAT64, 6to4,
Teredo, mapped) — are refused unless ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` (on in DEBUG,
so tests and a laptop can run a receiver on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

# What the delivery log keeps of a response: its first bytes.
EXCERPT_BYTES = 1000


class Refused(Exception):
    """The URL may not be called (scheme, address); never retried into success."""


@dataclass(frozen=True)
class Answer:
    status: int | None
    latency_ms: int
    excerpt: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint, or None. Checked when an endpoint is saved (a
    name is resolved again on every request)."""
    parts = urlsplit(url)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return _("The URL must start with https://.")
    if not parts.hostname:
        return _("The URL has no host.")
    if parts.username or parts.password:
        return _("Put no user name or password in the URL: requests are signed instead.")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return None
    if not allow_private and not _public(literal):
        return _("The URL points to a private or reserved address.")
    return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Reachable on the internet as a single host (multicast counts as global to Python),
    and so is every IPv4 address an IPv6 one carries (_carried)."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(_public(inside) for inside in _carried(address))
    return True


# NAT64's well-known prefix (RFC 6052): a NAT64 gateway sends 64:ff9b::a.b.c.d to a.b.c.d.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _carried(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, 6to4, Teredo's server and
    client, NAT64's. Python 3.12's is_global calls 64:ff9b::10.0.0.1 and 2002:a00:1::
    global, though a gateway or relay takes them to 10.0.0.1."""
    carried = [inside for inside in (address.ipv4_mapped, address.sixtofour) if inside]
    if address.teredo is not None:
        carried.extend(address.teredo)
    if address in _NAT64:
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    return carried


def resolve(host: str, port: int, *, within: float | None = None) -> str:
    """A public address of ``host`` (any when private addresses are allowed); Refused when
    it has none, when any of its addresses is not public (a name that also points inside
    is not trusted), or when the lookup takes more than ``within`` seconds (by default
    the connect timeout: the lookup is the connection's first step)."""
    infos = _looked_up(
        host, port, settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS if within is None else within
    )
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise Refused(f"the host name {host!r} has no address")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%")[0])):
                raise Refused(f"{host!r} resolves to {address}, which is not a public address")
    return addresses[0]


def _looked_up(host: str, port: int, within: float) -> list[Any]:
    """getaddrinfo, which takes no timeout, bounded: it runs on a thread of its own, and a
    lookup still running after ``within`` seconds is left to finish there, unheeded."""
    found: list[Any] = []
    failed: list[BaseException] = []

    def look_up() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as error:
            failed.append(error)

    lookup = threading.Thread(target=look_up, name="webhook-dns", daemon=True)
    lookup.start()
    lookup.join(within)
    if lookup.is_alive():
        raise Refused(f"the host name {host!r} did not resolve within {within:g} s")
    if failed:
        raise Refused(f"the host name {host!r} does not resolve: {failed[0]}") from failed[0]
    return found


class _Keeping:
    """A pool that keeps the connections it opens, for the deadline to shut (_cut)."""

    made: list[Any]

    def _new_conn(self) -> Any:
        connection = super()._new_conn()  # type: ignore[misc]
        self.made = [*getattr(self, "made", []), connection]
        return connection


class _KeepingHTTP(_Keeping, urllib3.HTTPConnectionPool):
    pass


class _KeepingHTTPS(_Keeping, urllib3.HTTPSConnectionPool):
    pass


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url``; never raises for what the receiver does (the answer says
    it), raises Refused for a URL that may not be called."""
    problem = url_problem(url)
    if problem:
        raise Refused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connect = settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS
    total = settings.WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()  # the total timeout counts the name's lookup too
    address = resolve(host, port, within=min(connect, total))
    timeout = urllib3.Timeout(connect=connect, read=total)
    options: dict[str, object] = {"timeout": timeout, "retries": False, "maxsize": 1}
    if parts.scheme == "https":
        pool: urllib3.HTTPConnectionPool = _KeepingHTTPS(
            address,
            port,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **options,  # type: ignore[arg-type]
        )
    else:
        pool = _KeepingHTTP(address, port, **options)  # type: ignore[arg-type]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    deadline = started + total
    cut = threading.Event()
    late = f"timeout: no complete answer within {total} s"
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, args=(pool, cut))
    timer.daemon = True
    timer.start()
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            head_cut = cut.is_set()  # (the deadline ended the head: it may be partial)
            excerpt = "" if head_cut else _read_some(response, deadline)
        finally:
            response.release_conn()
            response.close()
        if head_cut:
            return Answer(None, _elapsed_ms(started), "", late)
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Answer(None, _elapsed_ms(started), "", late if cut.is_set() else _describe(error))
    finally:
        timer.cancel()
        pool.close()
    problem = ""
    if 300 <= response.status < 400:
        problem = f"redirect to {response.headers.get('Location', '?')} not followed"[:500]
    elif not 200 <= response.status < 300:
        problem = f"HTTP {response.status}"
    return Answer(response.status, _elapsed_ms(started), excerpt, problem)


def _read_some(response: urllib3.BaseHTTPResponse, deadline: float) -> str:
    """The response's first EXCERPT_BYTES, read while time is left; the rest is not read
    (the connection is closed, not reused)."""
    kept = b""
    while len(kept) < EXCERPT_BYTES and time.monotonic() < deadline:
        try:
            chunk = response.read1(EXCERPT_BYTES - len(kept))
        except (urllib3.exceptions.HTTPError, OSError):
            break  # (cut at the deadline: the status was answered, the excerpt is short)
        if not chunk:
            break
        kept += chunk
    return kept.decode("utf-8", "replace")


def _cut(pool: urllib3.HTTPConnectionPool, cut: threading.Event) -> None:
    """The deadline: shut every socket the request opened, which ends a read in progress."""
    cut.set()
    for connection in getattr(pool, "made", []):
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _elapsed_ms(started: float) -> int:
    return round(1000 * (time.monotonic() - started))


def _describe(error: Exception) -> str:
    """What the delivery log says of a request that got no answer."""
    reason = getattr(error, "reason", None) or error
    # Before the timeout: urllib3's NewConnectionError is a kind of ConnectTimeoutError.
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return f"could not connect: {str(reason).rpartition(': ')[2]}"[:500]
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
        return "connect timeout"
    if isinstance(reason, urllib3.exceptions.ReadTimeoutError):
        return "timeout waiting for the response"
    return f"{type(reason).__name__}: {reason}"[:500]
