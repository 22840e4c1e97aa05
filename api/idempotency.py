"""Idempotency keys on the API's POSTs (the IETF draft "The Idempotency-Key HTTP Header
Field", as Stripe does it): a retried POST with the same key and body gets the first
answer again, never a second row.

- The key is scoped to its caller: a digest of the ``Authorization`` header (a token), or
  of the session cookie. Another caller's key of the same value is another key.
- First use: the key's row is inserted, then locked, and the view runs in the same
  transaction; the answer is stored in it, so the key is completed exactly when the work
  commits. A 5xx rolls the work back and leaves the key free to retry.
- An answer that refuses the caller rather than the request — 401, 403 or 429, given
  before any work — is not kept either (what the refusal recorded, such as a refused
  token's security event, stays): the same key works once the credentials, the role or
  the rate limit allow it. A kept 429 would have refused the retry for a whole day.
- An answer that carries a secret shown once (a webhook endpoint's: ``sealed``) is kept
  encrypted, as the secret itself is stored.
- The same key and body again: the stored answer, with ``Idempotent-Replayed: true``.
- The same key with another method, path or body: 422.
- The same key while the first request is still running: 409 at once (the lock is taken
  with NOWAIT), never a second effect.
- Keys older than ``IDEMPOTENCY_KEY_DAYS`` start afresh (and are purged every night).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from api.errors import json_error
from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# What of a stored answer is given back besides its body and status.
_KEPT_HEADERS = ("Content-Type", "Location", "Content-Language")
# Refusals of the caller, not of the request: not kept (the module's docstring).
_NOT_KEPT = frozenset({401, 403, 429})
_SEALED = "_idempotency_sealed"


def sealed(response: HttpResponse) -> HttpResponse:
    """Mark ``response`` as carrying a secret shown once: if its request had an
    Idempotency-Key, the answer is kept for the replay encrypted (``sealed_body``)."""
    setattr(response, _SEALED, True)
    return response


# The key's row, unless it exists: never waits on a row another request holds.
_CLAIM = """
    INSERT INTO api_idempotencykey (scope, key, fingerprint, created_at, headers, body)
    VALUES (%s, %s, %s, %s, '{}', '')
    ON CONFLICT (scope, key) DO NOTHING
"""


def _scope(request: HttpRequest) -> str | None:
    credentials = request.headers.get("Authorization")
    if credentials:
        return hashlib.sha256(b"token:" + credentials.encode()).hexdigest()
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session:
        return hashlib.sha256(b"session:" + session.encode()).hexdigest()
    return None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _valid(key: str) -> bool:
    return 0 < len(key) <= 255 and key.isascii() and key.isprintable()


def _replay(row: IdempotencyKey) -> HttpResponse:
    body = row.sealed_body.encode() if row.sealed_body is not None else bytes(row.body)
    response = HttpResponse(body, status=row.status_code or 200)
    for name, value in (row.headers or {}).items():
        response[name] = value
    response[REPLAYED] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not _valid(key):
            return json_error(
                request,
                status_code=400,
                kind="invalid_idempotency_key",
                detail=_("The Idempotency-Key header must be 1 to 255 printable ASCII characters."),
            )
        scope = _scope(request)
        if scope is None:  # no credentials: refused by the view anyway, nothing to keep
            return self.get_response(request)
        return self._once(request, scope, key)

    def _once(self, request: HttpRequest, scope: str, key: str) -> HttpResponse:
        now = timezone.now()
        fingerprint = _fingerprint(request)
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM, [scope, key, fingerprint, now])
        locked = False
        try:
            with transaction.atomic():
                # First in the transaction, so a refused lock needs no savepoint: nothing
                # has been done yet when it fails.
                row = IdempotencyKey.objects.select_for_update(nowait=True).get(
                    scope=scope, key=key
                )
                locked = True
                return self._with(row, request, fingerprint, now)
        except IdempotencyKey.DoesNotExist:  # purged between the insert and the lock
            return self.get_response(request)
        except DatabaseError:
            if locked:
                raise
            return json_error(
                request,
                status_code=409,
                kind="idempotency_key_in_use",
                detail=_("A request with this Idempotency-Key is still being processed."),
            )

    def _with(
        self, row: IdempotencyKey, request: HttpRequest, fingerprint: str, now: datetime
    ) -> HttpResponse:
        """In the transaction that holds the key: refuse, replay, or do the work once."""
        if row.created_at < now - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS):
            # Expired: the key starts afresh (saved below with the answer).
            row.fingerprint, row.created_at, row.completed_at = fingerprint, now, None
        if row.fingerprint != fingerprint:
            return json_error(
                request,
                status_code=422,
                kind="idempotency_key_reused",
                detail=_(
                    "This Idempotency-Key was used for another request (a different "
                    "method, path or body): use a new key for a new request."
                ),
            )
        if row.completed_at is not None:
            return _replay(row)
        response = self.get_response(request)
        if response.status_code >= 500 or response.streaming:
            transaction.set_rollback(True)  # the work undone; the key free to retry
            return response
        if response.status_code in _NOT_KEPT:
            return response  # the key free to retry, uncompleted
        row.completed_at = timezone.now()
        row.status_code = response.status_code
        row.headers = {name: response[name] for name in _KEPT_HEADERS if name in response}
        if getattr(response, _SEALED, False):
            row.body, row.sealed_body = b"", response.content.decode(response.charset)
        else:
            row.body, row.sealed_body = response.content, None
        row.save(
            update_fields=[
                "fingerprint", "created_at", "completed_at", "status_code", "headers", "body",
                "sealed_body",
            ]
        )  # fmt: skip
        return response
