"""Idempotency keys on the API's POSTs: the same key and body get the first answer again and
do the work once; another body is a 422; a concurrent duplicate gets 409; a 5xx, or a
refusal of the caller (401, 403, 429), leaves the key free to retry; an answer carrying a
secret is kept encrypted; keys belong to their caller and expire."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Role, SecurityEvent, SecurityEventKind
from api.idempotency import _scope
from api.models import IdempotencyKey
from api.services import api_token_issue, api_token_revoke
from assessments.models import AssessmentTransition
from clients import api as clients_api
from clients.models import Client
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EducationActionFactory,
    EngagementFactory,
    answer_everything,
    submitted_assessment,
)
from webhooks import services
from webhooks.models import Delivery, Endpoint, Event

CLIENTS = "/api/v1/clients/"
ENGAGEMENTS = "/api/v1/engagements/"
NEW = {"name": "Nova Telecom", "segment": "telecom", "size": "large", "country": "BR"}
HOOKS = "/api/v1/webhook-endpoints/"


def signed_in(api, user=None):
    _token, raw = api_token_issue(user=user or AccountManagerFactory(), name="crm")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def post(api, body=NEW, key="order-123"):
    return api.post(CLIENTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retried_post_gets_the_first_answer_and_does_the_work_once(api):
    signed_in(api)
    first = post(api)
    again = post(api)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again["Content-Type"] == "application/json"
    assert Client.objects.count() == 1
    # Without a key nothing is remembered: a second POST is a second request.
    assert api.post(CLIENTS, NEW | {"name": "Outra"}, format="json").status_code == 201
    assert Client.objects.count() == 2


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422(api):
    signed_in(api)
    post(api)
    other = post(api, NEW | {"name": "Another name"})
    assert other.status_code == 422
    assert other.json()["type"] == "idempotency_key_reused"
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_remembered_too(api):
    signed_in(api)
    refused = post(api, {"name": ""})
    assert refused.status_code == 400
    assert post(api, {"name": ""}).json() == refused.json()
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_keys_belong_to_their_caller(api):
    signed_in(api)
    post(api)
    signed_in(api)  # another manager's token, the same key
    assert post(api, NEW | {"name": "Nova Telecom Sul"}).status_code == 201
    assert Client.objects.count() == 2


@pytest.mark.django_db
def test_a_key_is_forgotten_after_its_days(api, settings):
    manager = AccountManagerFactory()
    signed_in(api, manager)
    client = ClientFactory(owner=manager)
    engagement = {"client": client.pk, "process_type": "collections"}

    def start() -> Any:
        return api.post(ENGAGEMENTS, engagement, format="json", HTTP_IDEMPOTENCY_KEY="eng-1")

    assert start().status_code == 201
    assert start()["Idempotent-Replayed"] == "true"
    IdempotencyKey.objects.update(
        created_at=timezone.now() - timedelta(days=settings.IDEMPOTENCY_KEY_DAYS, seconds=1)
    )
    assert "Idempotent-Replayed" not in start()
    assert client.engagements.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "clé"])
def test_a_malformed_key_is_a_400(api, key):
    signed_in(api)
    answer = post(api, key=key)
    assert answer.status_code == 400
    assert answer.json()["type"] == "invalid_idempotency_key"
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_failure_on_our_side_undoes_the_work_and_frees_the_key(api, monkeypatch):
    signed_in(api)
    api.raise_request_exception = False
    real = clients_api.client_create

    def made_then_failed(**kwargs):
        real(**kwargs)
        raise RuntimeError("the disk filled up after the insert")

    monkeypatch.setattr(clients_api, "client_create", made_then_failed)
    assert post(api).status_code == 500
    assert not Client.objects.exists()  # rolled back with the key's transaction
    monkeypatch.setattr(clients_api, "client_create", real)
    assert post(api).status_code == 201
    assert post(api)["Idempotent-Replayed"] == "true"
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_a_403_is_not_kept_the_key_works_once_the_role_allows(api):
    manager = AccountManagerFactory()
    signed_in(api, manager)
    hook = {"url": "https://example.com/hook", "event_types": ["client.created"]}

    def add() -> Any:
        return api.post(HOOKS, hook, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")

    assert add().status_code == 403  # webhooks are the directors'
    assert add().status_code == 403
    assert "Idempotent-Replayed" not in add()
    manager.role = Role.DIRECTOR
    manager.save(update_fields=["role"])
    made = add()
    assert made.status_code == 201, made.json()
    assert add()["Idempotent-Replayed"] == "true"
    assert Endpoint.objects.count() == 1


@pytest.mark.django_db
def test_a_429_is_not_kept_the_retry_is_done_once_the_rate_allows(api, rate_limits):
    rate_limits(user="100/min", token="2/min", refused_token="5/min")
    signed_in(api)
    assert api.get(CLIENTS).status_code == 200
    assert api.get(CLIENTS).status_code == 200
    throttled = post(api)
    assert throttled.status_code == 429
    assert "Retry-After" in throttled
    assert not Client.objects.exists()
    rate_limits()  # the minute is over: the counters start afresh
    made = post(api)
    assert made.status_code == 201
    assert "Idempotent-Replayed" not in made
    assert post(api)["Idempotent-Replayed"] == "true"
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_a_401_is_not_kept_and_the_refusal_is_still_recorded(api):
    token, raw = api_token_issue(user=AccountManagerFactory(), name="crm")
    api_token_revoke(token=token)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert post(api).status_code == 401
    assert post(api).status_code == 401
    assert not IdempotencyKey.objects.filter(completed_at__isnull=False).exists()
    refused = SecurityEvent.objects.filter(kind=SecurityEventKind.TOKEN_REFUSED)
    assert refused.count() == 2  # (not undone with the key's transaction)


@pytest.mark.django_db
def test_an_answer_with_a_secret_is_kept_encrypted_and_replayed_whole(api):
    signed_in(api, DirectorFactory())
    hook = {"url": "https://example.com/hook", "event_types": ["client.created"]}
    made = api.post(HOOKS, hook, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert made.status_code == 201
    secret = made.json()["secret"]
    endpoint = Endpoint.objects.get()
    rotate = f"{HOOKS}{endpoint.pk}/rotate-secret/"
    rotated = api.post(rotate, HTTP_IDEMPOTENCY_KEY="rotate-1")
    new_secret = rotated.json()["secret"]
    assert rotated.status_code == 200
    assert new_secret != secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, body, sealed_body FROM api_idempotencykey ORDER BY key")
        stored = cursor.fetchall()
    assert [key for key, _body, _sealed in stored] == ["hook-1", "rotate-1"]
    for (_key, body, sealed), shown in zip(stored, (secret, new_secret), strict=True):
        assert bytes(body) == b""
        assert sealed
        assert shown not in sealed
        assert shown.removeprefix("whsec_") not in sealed
    again = api.post(HOOKS, hook, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == made.json()
    assert again["Content-Type"] == "application/json"
    rotated_again = api.post(rotate, HTTP_IDEMPOTENCY_KEY="rotate-1")
    assert rotated_again.json() == rotated.json()
    endpoint.refresh_from_db()
    assert endpoint.secret == new_secret  # rotated once
    assert Endpoint.objects.count() == 1
    # Any other answer is kept as it was sent.
    post(api)
    assert IdempotencyKey.objects.get(key="order-123").sealed_body is None


def _submit(manager: Any) -> tuple[str, dict, Any]:
    from assessments.services import assessment_start

    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    draft, _created = assessment_start(engagement=engagement, by=manager)
    answer_everything(draft)
    return (
        f"/api/v1/assessments/{draft.pk}/submit/",
        {},
        lambda: AssessmentTransition.objects.filter(
            assessment=draft, to_status="submitted"
        ).count(),
    )


def _review(manager: Any) -> tuple[str, dict, Any]:
    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    submitted = submitted_assessment(engagement)
    return (
        f"/api/v1/assessments/{submitted.pk}/review/",
        {"decision": "return", "comment": "Check the sponsor's answers."},
        lambda: AssessmentTransition.objects.filter(
            assessment=submitted, to_status="returned"
        ).count(),
    )


def _complete(manager: Any) -> tuple[str, dict, Any]:
    action = EducationActionFactory(
        engagement=EngagementFactory(client=ClientFactory(owner=manager))
    )
    return (
        f"/api/v1/education-actions/{action.pk}/complete/",
        {"outcome": "Held with eight people."},
        lambda: Event.objects.filter(type="education_action.completed").count(),
    )


def _test_event(_manager: Any) -> tuple[str, dict, Any]:
    endpoint = services.endpoint_create(
        url="https://example.com/hook", event_types=["client.created"], by=DirectorFactory()
    )
    return (
        f"{HOOKS}{endpoint.pk}/test/",
        {},
        lambda: Delivery.objects.filter(endpoint=endpoint).count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("route", [_submit, _review, _complete, _test_event])
def test_a_retried_action_is_done_once_and_answered_again(api, route):
    """The POSTs that act, not only those that create: the retry is the first answer."""
    director = DirectorFactory()  # reviews and webhooks are the directors'; they see all
    path, body, effects = route(director)
    signed_in(api, director)
    first = api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="act-1")
    assert first.status_code in (200, 202), first.json()
    assert effects() == 1
    again = api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="act-1")
    assert again["Idempotent-Replayed"] == "true"
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert effects() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_sent_while_the_first_runs_gets_409_and_no_second_effect(api):
    signed_in(api)
    header = api._credentials["HTTP_AUTHORIZATION"]
    scope = _scope(RequestFactory().post(CLIENTS, HTTP_AUTHORIZATION=header))
    assert scope is not None
    IdempotencyKey.objects.create(
        scope=scope, key="order-123", fingerprint="-", created_at=timezone.now()
    )
    holding, release = threading.Event(), threading.Event()

    def first_request_running() -> None:
        # What the first request's transaction does: hold the key's row until it commits.
        try:
            with transaction.atomic():
                IdempotencyKey.objects.select_for_update().get(scope=scope)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_request_running)
    thread.start()
    try:
        assert holding.wait(10)
        duplicate = post(api)
    finally:
        release.set()
        thread.join()
    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == "idempotency_key_in_use"
    assert not Client.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_retries_make_one_row(postgres):
    """An integration's retries racing each other (a timeout, a retrying proxy, a second
    worker): each waits for none, and whatever they get — the first answer, replayed, or
    409 while the first is still running — exactly one client is made."""
    from rest_framework.test import APIClient

    _token, raw = api_token_issue(user=AccountManagerFactory(), name="crm")
    start = threading.Barrier(20)
    answers: list[Any] = []
    lock = threading.Lock()

    def retry() -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            start.wait(10)
            response = post(api, key="crm-sync-42")
            with lock:
                answers.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 20
    assert Client.objects.count() == 1
    made = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a]
    assert len(made) == 1
    for answer in answers:
        assert answer.status_code in (201, 409), answer.content
        if answer.status_code == 201:
            assert answer.json() == made[0].json()
        else:
            assert answer.json()["type"] == "idempotency_key_in_use"
