"""API rate limits (DRF throttles): per user, per token, and per address for refused
tokens (a call without credentials is refused with 401 before any throttle: it costs
nothing to answer and reveals nothing) — answered with 429 and ``Retry-After``. The same
sliding log limits other callers by address (``within_limit``: the client survey's pages).

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
import uuid
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script
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
    # Not DRF's key: its pickled lists, left by an earlier release, are not logs.
    cache_format = "throttle_log_%(scope)s_%(ident)s"

    def get_rate(self) -> str | None:
        # Read when used, not when this module was imported: settings may change (tests).
        rates: dict[str, str] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates.get(str(self.scope))

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


# One sliding log per limit, kept by Redis as a sorted set of call times: the log of the
# last ``duration`` seconds is trimmed, counted and — if under the limit — added to, for
# every limit of a call at once, in one round trip. A refused call is not logged, as in
# DRF's own throttles (whose pickled list, read and written whole by two round trips per
# limit, cost a call 1.2 ms: bench/README.md). Returns, per limit, 0 when the call fits
# or the time of the oldest logged call (the limit frees a place when it is ``duration``
# old). A negative limit is only checked, never added to (the refused tokens of the
# call's address, for a call whose token is good); such limits come first, and when one
# is reached nothing is logged.
_SLIDING_LOG = """
local now = tonumber(ARGV[1])
local answers = {}
local paused = false
for i, key in ipairs(KEYS) do
    local duration = tonumber(ARGV[2 * i])
    local limit = tonumber(ARGV[2 * i + 1])
    local checked_only = limit < 0
    if checked_only then
        limit = -limit
    end
    if redis.call('TYPE', key).ok ~= 'zset' then
        redis.call('DEL', key)  -- none, or another storage's list: start the log afresh
    end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
    if redis.call('ZCARD', key) < limit then
        if not checked_only and not paused then
            redis.call('ZADD', key, now, ARGV[#ARGV])
            redis.call('EXPIRE', key, math.ceil(duration))
        end
        answers[i] = '0'
    else
        answers[i] = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
        paused = paused or checked_only
    end
end
return answers
"""


_SCRIPT = Script(None, _SLIDING_LOG.encode())  # type: ignore[arg-type]  # bytes: no client needed
_CLIENTS: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()


def _redis() -> Any | None:
    """A Redis client on the connections of Django's Redis cache backend (one per backend:
    making one costs more than the script's round trip), or None for another backend —
    then DRF's own throttling runs, through the cache API."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    backend = getattr(cache, "_cache", None)
    if not isinstance(cache, RedisCache) or backend is None:
        return None
    client = _CLIENTS.get(backend)
    if client is None:
        client = _CLIENTS[backend] = backend.get_client(write=True)
    return client


def _log_call(client: Any, limits: list[tuple[str, int, int]], now: float) -> list[Any]:
    """Run the sliding-log script for one call against ``limits`` — (cache key, calls,
    seconds) each; negative calls: only checked, first — and return its answer per
    limit (0, or the oldest logged call)."""
    args: list[Any] = [now]
    for _key, calls, duration in limits:
        args += [duration, calls]
    result: list[Any] = _SCRIPT(
        keys=[key for key, _calls, _duration in limits],
        args=[*args, f"{now}:{uuid.uuid4().hex[:8]}"],  # the call's own member of each log
        client=client,
    )
    return result


def _seconds_left(oldest: Any, duration: float, now: float) -> float:
    """How long until a full log of ``duration`` seconds whose oldest call is at
    ``oldest`` frees a place (at least a second: the ``Retry-After``)."""
    return max(float(oldest) + duration - now, 1.0)


class _OneLimit(SimpleRateThrottle):
    """DRF's throttle for one limit under a given cache key."""

    def __init__(self, key: str, calls: int, duration: int) -> None:
        self.rate = f"{calls}/{duration}s"
        self.num_requests, self.duration = calls, duration
        self.limit_key = key

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.limit_key


def within_limit(
    scope: str, ident: str, *, calls: int, duration: int, now: float | None = None
) -> bool:
    """Whether one more call of ``ident`` fits ``calls`` per ``duration`` seconds under
    ``scope`` — counted in the last ``duration`` seconds, as the API's limits are (one
    round trip to Redis; DRF's throttle through the cache API elsewhere), the call logged
    if it fits. Not applied while the cache is away (see the module)."""
    if _Breaker.open():
        return True
    key = _Throttle.cache_format % {"scope": scope, "ident": ident}
    moment = time.time() if now is None else now
    try:
        client = _redis()
        if client is None:
            limit = _OneLimit(key, calls, duration)
            limit.timer = lambda: moment
            # No request or view: the limit's key is its own (_OneLimit.get_cache_key).
            return bool(limit.allow_request(None, None))  # type: ignore[arg-type]
        (oldest,) = _log_call(
            client, [(caches[DEFAULT_CACHE_ALIAS].make_key(key), calls, duration)], moment
        )
    except _CACHE_ERRORS as error:
        _Breaker.failed(error)
        return True
    return not float(oldest)


# Set on a request by the token authentication when its round trip to Redis logged the
# call against its limits too (RefusedTokenThrottle.admit): the limits, the script's
# answers, and the time it counted from.
LOGGED_BY_AUTHENTICATION = "_api_limits_logged"
_Logged = tuple[list[tuple[str, tuple[int, int]]], list[Any], float]


class ApiRateThrottle(_Throttle):
    """Every call of one signed-in user (``user``, whichever way it authenticates), and
    every call made with one API token (``token``: an integration among the user's
    others) — both limits checked in one round trip to Redis. A call refused by one
    limit still counts against the other when it fits there."""

    scope = "user"
    token_scope = "token"

    def allow_request(self, request: Any, view: Any) -> bool:
        self.waits: list[float] = []
        logged: _Logged | None = getattr(request, LOGGED_BY_AUTHENTICATION, None)
        if logged is not None:  # the token authentication's round trip logged the call
            limits, answers, now = logged
        else:
            limits = self.limits(
                request.user.pk if request.user.is_authenticated else None,
                request.auth.pk if isinstance(request.auth, ApiToken) else None,
            )
            if not limits or _Breaker.open():
                return True
            now = self.timer()
            try:
                client = _redis()
                if client is None:
                    return self._through_the_cache_api(request, view, limits)
                answers = _log_call(client, self.logged(limits), now)
            except _CACHE_ERRORS as error:
                _Breaker.failed(error)
                return True
        for (_key, (_limit, duration)), oldest in zip(limits, answers, strict=True):
            if float(oldest):
                self.waits.append(_seconds_left(oldest, duration, now))
        return not self.waits

    def wait(self) -> float | None:
        return max(self.waits) if self.waits else None

    def limits(self, user: int | None, token: int | None) -> list[tuple[str, tuple[int, int]]]:
        """(cache key, (calls, seconds)) of each limit that applies to a call of the user
        ``user`` (a pk; None: anonymous, no limit) with the API token ``token`` (a pk)."""
        if user is None:
            return []
        rates: dict[str, str] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        limits = []
        for scope, ident in ((self.scope, user), (self.token_scope, token)):
            rate = rates.get(scope)
            if rate is not None and ident is not None:
                key = self.cache_format % {"scope": scope, "ident": ident}
                limits.append((key, self.parse_rate(rate)))
        return limits  # type: ignore[return-value]

    def logged(self, limits: list[tuple[str, tuple[int, int]]]) -> list[tuple[str, int, int]]:
        """``limits`` as the sliding-log script takes them."""
        return [(self.cache.make_key(key), calls, duration) for key, (calls, duration) in limits]

    def _through_the_cache_api(
        self, request: Any, view: Any, limits: list[tuple[str, tuple[int, int]]]
    ) -> bool:
        """Without Redis (the embedded default's local memory cache): DRF's throttle,
        once per limit."""
        for key, (calls, duration) in limits:
            throttle = _OneLimit(key, calls, duration)
            if not throttle.allow_request(request, view):
                self.waits.append(throttle.wait() or 1.0)
        return not self.waits


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
        key = self.get_cache_key(request, None)
        now = self.timer()
        try:
            client = _redis()
            if client is None:
                history = self.cache.get(key, [])
                recent = [at for at in history if at > now - self.duration]
                count, oldest = len(recent), (recent[-1] if recent else None)
            else:  # the log ApiRateThrottle's script keeps: count it, and its oldest call
                since = now - self.duration
                pipe = client.pipeline(transaction=False)
                pipe.zcount(self.cache.make_key(key), f"({since}", "+inf")
                pipe.zrangebyscore(
                    self.cache.make_key(key), f"({since}", "+inf", start=0, num=1, withscores=True
                )
                count, first = pipe.execute()
                oldest = first[0][1] if first else None
        except _CACHE_ERRORS as error:
            _Breaker.failed(error)
            return None
        if count < self.num_requests or oldest is None:
            return None
        return _seconds_left(oldest, self.duration, now)

    def refuse(self, request: Any) -> float | None:
        """A token refused: logged against the address, in one round trip with the check
        of its pause — the seconds the address must wait if it was already paused (then
        nothing is logged), else None."""
        wait = self.wait_before_trying(request) if _redis() is None else None
        if wait is None:
            return self.record_refusal(request)
        return wait

    def admit(self, request: Any, token: ApiToken) -> float | None:
        """A good token: the seconds its address must still wait after refused ones (a
        paused address is paused whatever it sends: otherwise a guess that is not
        refused would tell a good token), else None. On Redis, in the same round trip,
        the call is logged against its user's and its token's limits
        (ApiRateThrottle answers from that): one round trip where there were two."""
        if self.rate is None or _Breaker.open():
            return None
        client = _redis()
        if client is None:
            return self.wait_before_trying(request)
        rates = ApiRateThrottle()
        limits = rates.limits(token.user_id, token.pk)
        now = self.timer()
        key = self.cache.make_key(self.get_cache_key(request, None))
        pause = (key, -self.num_requests, self.duration)  # checked, not logged
        try:
            oldest, *answers = _log_call(client, [pause, *rates.logged(limits)], now)
        except _CACHE_ERRORS as error:
            _Breaker.failed(error)
            return None
        if float(oldest):
            return _seconds_left(oldest, self.duration, now)
        setattr(request, LOGGED_BY_AUTHENTICATION, (limits, answers, now))
        return None

    def record_refusal(self, request: Any) -> float | None:
        """Log a refused token against the address. On Redis, returns the seconds to wait
        if the address was already paused (then it is not logged), else None."""
        if self.rate is None or _Breaker.open():
            return None
        key = self.get_cache_key(request, None)
        now = self.timer()
        try:
            client = _redis()
            if client is None:
                history = self.cache.get(key, [])
                history = [now, *(at for at in history if at > now - self.duration)]
                self.cache.set(key, history[: self.num_requests], self.duration)
            else:
                (oldest,) = _log_call(
                    client, [(self.cache.make_key(key), self.num_requests, self.duration)], now
                )
                if float(oldest):  # already paused: not logged
                    return _seconds_left(oldest, self.duration, now)
        except _CACHE_ERRORS as error:
            _Breaker.failed(error)
        return None
