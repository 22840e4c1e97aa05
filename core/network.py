"""The client's address, read one way everywhere: the sign-in lockout (django-axes, through
``AXES_CLIENT_IP_CALLABLE``), the API's rate limits, the security log and every log line
of a request (bound by ``core.apps``).

Behind ``TRUSTED_PROXY_COUNT`` proxies that each append the address they saw to
``X-Forwarded-For``, the client is the entry that many places from the right; with none,
the socket's peer (``REMOTE_ADDR``). A header the client wrote itself is never believed
beyond what the trusted proxies vouch for: entries to the left of the client's are
whatever the client sent.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from django.conf import settings

_CACHED = "_client_ip"


def client_ip(request: Any) -> str | None:
    """The address the request came from, by the rule above; None when it cannot be told
    (no peer address, or a proxy's header that is not an address)."""
    cached: str | bool | None = getattr(request, _CACHED, False)
    if cached is not False:
        return cached if isinstance(cached, str) else None
    address = _read(request.META, settings.TRUSTED_PROXY_COUNT)
    setattr(request, _CACHED, address)
    return address


def _read(meta: dict[str, Any], proxies: int) -> str | None:
    if proxies:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        # Fewer entries than trusted proxies: the request skipped one of them, and nothing
        # in the header is vouched for; the peer is the best that can be said.
        candidate = forwarded[-proxies] if len(forwarded) >= proxies else meta.get("REMOTE_ADDR")
    else:
        candidate = meta.get("REMOTE_ADDR")
    return _valid(candidate)


def _valid(candidate: str | None) -> str | None:
    if not candidate:
        return None
    try:
        return str(ip_address(candidate))
    except ValueError:
        return None
