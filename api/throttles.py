"""API rate limits (DRF throttles): per user, per token, and per address for refused
tokens (a call without credentials is refused with 401 before any throttle: it costs
nothing to answer and reveals nothing) — answered with 429 and ``Retry-After``.

The counts live in the cache (Redis in production). When the cache cannot be reached the
limits are not applied — an API that stops answering because its rate counter is away
would be worse than one briefly unlimited — and, as for the broker, this process stops
asking for ``THROTTLE_RETRY_AFTER_SECONDS`` after a failure, so a hung Redis costs one
socket timeout, not one a call. The client's address is ``core.network.client_ip``'s
(the same proxies trusted as for the sign-in lockout).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken
from core.network import client_ip

logger = logging.getLogger(__name__)

_CACHE_ERRORS = (RedisError, OSError)


class _Breaker:
    """Whether the rate counters' cache failed recently (then: do not ask it)."""

    until = 0.0

    @classmethod
    def open(cls) -> bool:
        return time.monotonic() < cls.until

    @classmethod
    def failed(cls, error: Exception) -> None:
        cls.until = time.monotonic() + settings.THROTTLE_RETRY_AFTER_SECONDS
        logger.warning("api_throttle_unavailable", extra={"error": repr(error)})


class _Throttle(SimpleRateThrottle):
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        # Read when used, not when this module was imported: settings may change (tests).
        rates: dict[str, str] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates.get(str(self.scope))

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"

    def allow_request(self, request: Any, view: Any) -> bool:
        if _Breaker.open():
            return True
        try:
            return super().allow_request(request, view)
        except _CACHE_ERRORS as error:
            _Breaker.failed(error)
            return True


class UserThrottle(_Throttle):
    """Every call of one signed-in user, whichever way it authenticates."""

    scope = "user"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenThrottle(_Throttle):
    """Every call made with one API token (an integration among the user's others)."""

    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class RefusedTokenThrottle(_Throttle):
    """Refused tokens, per address: guessing tokens gets 429 after a few tries. Not a
    DRF throttle in the view's list — a refused token ends the request at authentication,
    before throttles run — but asked by the token authentication itself."""

    scope = "refused_token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def wait_before_trying(self, request: Any) -> float | None:
        """Seconds this address must wait before presenting a token again, or None."""
        if self.rate is None or _Breaker.open():
            return None
        try:
            history = self.cache.get(self.get_cache_key(request, None), [])
        except _CACHE_ERRORS as error:
            _Breaker.failed(error)
            return None
        now = self.timer()
        recent = [at for at in history if at > now - self.duration]
        if len(recent) < self.num_requests:
            return None
        return max(recent[-1] + self.duration - now, 1)

    def record_refusal(self, request: Any) -> None:
        if self.rate is None or _Breaker.open():
            return
        self.key = self.get_cache_key(request, None)
        try:
            history = self.cache.get(self.key, [])
            now = self.timer()
            history = [now, *(at for at in history if at > now - self.duration)]
            self.cache.set(self.key, history[: self.num_requests], self.duration)
        except _CACHE_ERRORS as error:
            _Breaker.failed(error)
