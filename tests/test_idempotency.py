"""Idempotency keys on the API's POSTs: the same key and body get the first answer again and
do the work once; another body is a 422; a concurrent duplicate gets 409; a 5xx leaves the
key free to retry; keys belong to their caller and expire."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from api.idempotency import _scope
from api.models import IdempotencyKey
from api.services import api_token_issue
from clients import api as clients_api
from clients.models import Client
from tests.factories import AccountManagerFactory, ClientFactory

CLIENTS = "/api/v1/clients/"
ENGAGEMENTS = "/api/v1/engagements/"
NEW = {"name": "Nova Telecom", "segment": "telecom", "size": "large", "country": "BR"}


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
