"""API rate limits: per user, per token, per address for refused tokens; 429 with
Retry-After in the API's error shape; no limits (and no waiting) while the cache is away."""

from __future__ import annotations

import time
import uuid

import pytest
from rest_framework.test import APIClient

from accounts.models import SecurityEvent, SecurityEventKind
from api.services import api_token_issue
from api.throttles import _Breaker
from tests.factories import AccountManagerFactory

pytestmark = pytest.mark.django_db

CLIENTS = "/api/v1/clients/"


@pytest.fixture(autouse=True)
def fresh_counters(rate_limits):
    """Counters of this test alone, and rates low enough to reach."""
    rate_limits(user="6/min", token="4/min", refused_token="5/min")


def bearer(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_a_user_past_the_rate_gets_429_with_retry_after():
    api = APIClient()
    api.force_login(AccountManagerFactory())
    assert [api.get(CLIENTS).status_code for _ in range(6)] == [200] * 6
    refused = api.get(CLIENTS)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["type"] == "throttled"


def test_each_token_has_its_own_rate_within_its_users():
    user = AccountManagerFactory()
    crm, warehouse = (bearer(api_token_issue(user=user, name=n)[1]) for n in ("crm", "bi"))
    assert [crm.get(CLIENTS).status_code for _ in range(4)] == [200] * 4
    assert crm.get(CLIENTS).status_code == 429
    # The refused call counted against the user too (every throttle counts every call).
    assert warehouse.get(CLIENTS).status_code == 200  # the user's 6th of 6
    assert warehouse.get(CLIENTS).status_code == 429  # the user's limit, not the token's


def test_guessing_tokens_is_refused_after_a_few_tries_and_recorded():
    user = AccountManagerFactory()
    _, good = api_token_issue(user=user, name="crm")
    guesses = [bearer(f"mat_{uuid.uuid4().hex[:12]}_guess").get(CLIENTS) for _ in range(5)]
    assert [r.status_code for r in guesses] == [401] * 5
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.TOKEN_REFUSED).count() == 5
    paused = bearer(good).get(CLIENTS)  # the same address: paused whatever it sends
    assert paused.status_code == 429
    assert int(paused["Retry-After"]) >= 1
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.TOKEN_REFUSED).count() == 5
    assert bearer(good).get(CLIENTS, REMOTE_ADDR="198.51.100.4").status_code == 200


def test_a_paused_address_is_paused_even_where_its_good_token_would_be_forbidden():
    """Where the token's user may not go, a good token would get 403 and a guess 429: a
    paused address learns nothing — the pause is asked at authentication, before the
    permissions."""
    from django.urls import reverse

    manager = AccountManagerFactory()  # webhook endpoints are for directors
    _, good = api_token_issue(user=manager, name="crm")
    endpoints = reverse("webhook-endpoint-list")
    assert bearer(good).get(endpoints).status_code == 403
    for _ in range(5):
        assert bearer(f"mat_{uuid.uuid4().hex[:12]}_guess").get(endpoints).status_code == 401
    assert bearer(good).get(endpoints).status_code == 429
    assert bearer(f"mat_{uuid.uuid4().hex[:12]}_guess").get(endpoints).status_code == 429


def test_a_paused_good_token_leaves_no_trace_a_guess_would_not(django_assert_num_queries):
    """Refused at a paused address, a good token is not recorded as used and sends what a
    wrong guess sends: its lookup, nothing more."""
    from api.models import ApiToken

    token, good = api_token_issue(user=AccountManagerFactory(), name="crm")
    for _ in range(5):
        assert bearer(f"{good[:-4]}oops").get(CLIENTS).status_code == 401  # right prefix
    with django_assert_num_queries(1):
        assert bearer(good).get(CLIENTS).status_code == 429
    with django_assert_num_queries(1):
        assert bearer(f"{good[:-4]}oops").get(CLIENTS).status_code == 429
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None
    assert bearer(good).get(CLIENTS, REMOTE_ADDR="198.51.100.4").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_good_tokens_call_asks_redis_once_for_its_pause_and_both_its_limits(monkeypatch):
    """The address's pause and the user's and the token's limits: one script, one round
    trip (they were two: the pause checked before the token was looked up)."""
    from api import throttles

    user = AccountManagerFactory()
    api = bearer(api_token_issue(user=user, name="crm")[1])
    assert api.get(CLIENTS).status_code == 200
    client = throttles._redis()
    sent: list[object] = []
    real_execute, real_pipeline = client.execute_command, client.pipeline

    def execute_command(*args, **kwargs):
        sent.append(args[0])
        return real_execute(*args, **kwargs)

    def pipeline(*args, **kwargs):
        sent.append("pipeline")
        return real_pipeline(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", execute_command)
    monkeypatch.setattr(client, "pipeline", pipeline)
    assert [api.get(CLIENTS).status_code for _ in range(3)] == [200] * 3
    assert sent == ["EVALSHA"] * 3
    # And each call was logged once against each limit: the token's 4th call is its last.
    assert api.get(CLIENTS).status_code == 429
    assert sent == ["EVALSHA"] * 4


def test_guessing_tokens_is_paused_through_the_cache_api_too(settings):
    """The embedded default (no Redis): the same pause, counted in the local cache."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4().hex}",
        }
    }
    _, good = api_token_issue(user=AccountManagerFactory(), name="crm")
    assert bearer(good).get(CLIENTS).status_code == 200
    guesses = [bearer(f"mat_{uuid.uuid4().hex[:12]}_guess").get(CLIENTS) for _ in range(6)]
    assert [r.status_code for r in guesses] == [401] * 5 + [429]
    assert bearer(good).get(CLIENTS).status_code == 429
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.TOKEN_REFUSED).count() == 5


def test_without_the_cache_the_api_answers_unlimited_and_without_waiting(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    api = APIClient()
    api.force_login(AccountManagerFactory())
    started = time.monotonic()
    answers = [api.get(CLIENTS).status_code for _ in range(10)]
    assert answers == [200] * 10
    assert _Breaker.open()
    assert time.monotonic() - started < 5


def test_a_place_frees_when_the_oldest_call_is_a_window_old(settings):
    """A sliding log, not a fixed window: the call refused now is allowed as soon as the
    oldest logged call is older than the window, and Retry-After says when that is."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100/min", "token": "2/s", "refused_token": "5/min"},
    }
    api = bearer(api_token_issue(user=AccountManagerFactory(), name="crm")[1])
    assert [api.get(CLIENTS).status_code for _ in range(2)] == [200, 200]
    refused = api.get(CLIENTS)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    time.sleep(1.1)
    assert api.get(CLIENTS).status_code == 200


def test_retry_after_counts_from_the_oldest_call_in_the_window(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/min", "token": "100/min", "refused_token": "5/min"},
    }
    api = APIClient()
    api.force_login(AccountManagerFactory())
    api.get(CLIENTS)
    time.sleep(2.0)
    api.get(CLIENTS)
    refused = api.get(CLIENTS)
    assert refused.status_code == 429
    assert 56 <= int(refused["Retry-After"]) <= 58  # 60 s after the first call, not the last


def test_without_redis_the_limits_hold_through_the_cache_api(settings):
    """The embedded default (no Redis) keeps its counts in the local memory cache."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{uuid.uuid4().hex}",
        }
    }
    user = AccountManagerFactory()
    crm, warehouse = (bearer(api_token_issue(user=user, name=n)[1]) for n in ("crm", "bi"))
    assert [crm.get(CLIENTS).status_code for _ in range(5)] == [200] * 4 + [429]
    assert [warehouse.get(CLIENTS).status_code for _ in range(2)] == [200, 429]
    assert 0 < int(crm.get(CLIENTS)["Retry-After"]) <= 60


def test_a_key_left_in_another_shape_is_replaced_not_a_reason_to_stop_limiting():
    """An earlier release kept pickled lists; a log found in another shape starts afresh
    instead of failing every call (which would switch the limits off)."""
    from django.core.cache import cache

    user = AccountManagerFactory()
    token, raw = api_token_issue(user=user, name="crm")
    cache.set(f"throttle_log_token_{token.pk}", [1.0, 2.0], 60)  # a plain string in Redis
    api = bearer(raw)
    assert [api.get(CLIENTS).status_code for _ in range(5)] == [200] * 4 + [429]
    assert not _Breaker.open()


@pytest.mark.parametrize("through", ["redis", "the cache API"])
def test_within_limit_counts_the_last_duration_not_a_fixed_window(through, settings, redis_url):
    """Three calls a minute, made at 0, 58 and 59 s: a fixed window (a new one at 60 s)
    would let 61, 62 and 63 through — five calls in five seconds. The sliding log lets
    61 through (0 is out of the last minute), then refuses until 58 is."""
    from api.throttles import within_limit

    if through == "the cache API":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ident = uuid.uuid4().hex
    answers = [
        within_limit("test", ident, calls=3, duration=60, now=1_000_000.0 + t)
        for t in (0, 58, 59, 61, 62, 63, 118.5, 119)
    ]
    assert answers == [True, True, True, True, False, False, True, True]
