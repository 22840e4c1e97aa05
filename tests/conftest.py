"""Shared fixtures.

Tests that need a real service (PostgreSQL, Redis, Chromium) skip when it is missing on a
developer's machine, but fail when MATURITY_REQUIRE_SERVICES is set, as it is in CI, so a
missing service can never turn a red build green.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import redis as redis_lib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import settings as hypothesis_settings

# CI explores a fixed, larger set of examples: as thorough as a long local run, and the
# same every time, so a red build is a real finding and never luck. Locally examples vary
# from run to run and keep finding new corners. HYPOTHESIS_PROFILE=deep explores more.
hypothesis_settings.register_profile("ci", max_examples=300, derandomize=True, deadline=None)
hypothesis_settings.register_profile("deep", max_examples=3000, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

REQUIRE_SERVICES = os.environ.get("MATURITY_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def missing_service(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MATURITY_REQUIRE_SERVICES is set)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _broker_breaker_closed():
    """A test that makes a publish fail opens this process's breaker (core.tasks); the
    next test must publish again."""
    from core.tasks import breaker

    breaker.succeeded()
    yield
    breaker.succeeded()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request leaves its user's language
    active on the thread (LocaleMiddleware activates it and nothing deactivates it), and
    a service's message read after it would be in that language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Each test counts its own rate limits: the cache (Redis) outlives a test and is shared
    by every test process on the machine, so one test's refused tokens from 127.0.0.1
    would throttle the next test, or another run's. Changing CACHES resets Django's cache
    connections (django.test.signals)."""
    default = settings.CACHES["default"]
    if "redis" in default["BACKEND"].lower():
        settings.CACHES = {
            **settings.CACHES,
            "default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:16]}"},
        }


@pytest.fixture
def rate_limits(settings, redis_url):
    """``rate_limits(user=…, token=…, refused_token=…)``: the API's rate limits, low enough
    to reach, counted in the real Redis under a prefix of the test's own. Called again
    without rates, the counters start afresh (as when their window has gone by)."""
    from api.throttles import _Breaker

    def limit(**rates: str) -> None:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}",
            }
        }
        if rates:
            settings.REST_FRAMEWORK = {
                **settings.REST_FRAMEWORK,
                "DEFAULT_THROTTLE_RATES": rates,
            }
        _Breaker.until = 0.0

    yield limit
    _Breaker.until = 0.0


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def redis_server() -> None:
    """The drills run Redis servers of their own (tests.celery_process.PrivateRedis)."""
    if not shutil.which("redis-server"):
        missing_service("redis-server is not installed")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing_service("REDIS_URL is not set")
    try:
        redis_lib.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis_lib.RedisError as error:
        missing_service(f"Redis at {url} is unreachable: {error}")
    return url


@pytest.fixture
def postgres(db) -> None:
    if connection.vendor != "postgresql":
        missing_service(f"this test needs PostgreSQL, the database is {connection.vendor}")


class CapturedQueries:
    """The statements a `count_queries()` block sent to the default database."""

    def __init__(self, context: CaptureQueriesContext) -> None:
        self._context = context

    @property
    def count(self) -> int:
        return len(self._context.captured_queries)

    @property
    def sql(self) -> list[str]:
        return [query["sql"] for query in self._context.captured_queries]


@pytest.fixture
def count_queries() -> Callable[[], AbstractContextManager[CapturedQueries]]:
    """`with count_queries() as queries:` captures the block's queries: `queries.count` is how
    many ran, `queries.sql` their SQL. For comparing counts; to assert one exact count or a
    bound, use django_assert_num_queries or django_assert_max_num_queries."""

    @contextmanager
    def capture() -> Iterator[CapturedQueries]:
        with CaptureQueriesContext(connection) as context:
            yield CapturedQueries(context)

    return capture


@pytest.fixture
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        missing_service(f"Chromium not found at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture
def sized_page(chromium_path, monkeypatch, request):
    """A Chromium page whose viewport width is the test's parameter (indirect), 1366 when
    it has none; the language comes from the signed-in user's profile."""
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # in a thread with a loop unless told it is safe, which it is for a test's own calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    width = getattr(request, "param", 1366)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": width, "height": 768})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


# --- Two account managers with separate clients, and a director: the cast of the access
# tests. Factories are imported lazily so collecting tests needs no database.


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def manager_a():
    from tests.factories import AccountManagerFactory

    return AccountManagerFactory()


@pytest.fixture
def manager_b():
    from tests.factories import AccountManagerFactory

    return AccountManagerFactory()


@pytest.fixture
def director():
    from tests.factories import DirectorFactory

    return DirectorFactory()


@pytest.fixture
def a_client(manager_a):
    from tests.factories import ClientFactory

    return ClientFactory(owner=manager_a, name="Aurora Varejo S.A.")


@pytest.fixture
def b_client(manager_b):
    from tests.factories import ClientFactory

    return ClientFactory(owner=manager_b, name="Segredo Industrial S.A.")


@pytest.fixture
def as_a(api, manager_a):
    """The API client, signed in as manager A."""
    api.force_login(manager_a)
    return api
