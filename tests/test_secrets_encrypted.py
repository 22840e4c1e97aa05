"""Webhook signing secrets are stored encrypted (django-fernet-encrypted-fields): the
database alone does not hold them, SECRET_KEY rotates the way Django rotates it, and a
secret no key decrypts is never used to sign."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from standardwebhooks.webhooks import Webhook

from tests.factories import DirectorFactory
from webhooks import services
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def stored(endpoint: Endpoint) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret, previous_secret FROM webhooks_endpoint WHERE id = %s", [endpoint.pk]
        )
        return cursor.fetchone()


@pytest.fixture(autouse=True)
def keys_read_again():
    """The fields derive their keys once (a cached property): after a test changes
    SECRET_KEY, and after it, they must derive them again."""

    def forget() -> None:
        for name in ("secret", "previous_secret"):
            field = Endpoint._meta.get_field(name)
            for cached in ("keys", "f"):
                field.__dict__.pop(cached, None)

    forget()
    yield forget
    forget()


def an_endpoint() -> Endpoint:
    return services.endpoint_create(
        url="https://example.com/hook", event_types=["client.created"], by=DirectorFactory()
    )


def test_the_database_holds_neither_secret_and_the_product_reads_both_back():
    endpoint = an_endpoint()
    first = endpoint.secret
    second = services.endpoint_secret_rotate(endpoint=endpoint, by=DirectorFactory())
    secret, previous = stored(endpoint)
    for plain, column in ((second, secret), (first, previous)):
        assert plain.startswith("whsec_")
        assert plain not in column
        assert plain.removeprefix("whsec_") not in column
    again = Endpoint.objects.get(pk=endpoint.pk)
    assert (again.secret, again.previous_secret) == (second, first)
    # What signs is the secret shown, so a receiver verifies with what it was given.
    body = '{"type": "client.created"}'
    signature = Webhook(again.secret).sign("msg_1", again.created_at, body)
    Webhook(second).verify(
        body,
        {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(again.created_at.timestamp())),
            "webhook-signature": signature,
        },
    )


def test_rotating_secret_key_keeps_secrets_readable_through_the_fallbacks(
    settings, keys_read_again
):
    endpoint = an_endpoint()
    secret = endpoint.secret
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" + "x" * 50, [old_key]
    keys_read_again()
    assert Endpoint.objects.get(pk=endpoint.pk).secret == secret
    before = stored(endpoint)[0]
    call_command("reencrypt_secrets", stdout=io.StringIO())
    assert stored(endpoint)[0] != before
    settings.SECRET_KEY_FALLBACKS = []  # the old key retired after the rewrite
    keys_read_again()
    assert Endpoint.objects.get(pk=endpoint.pk).secret == secret


def test_a_secret_no_key_decrypts_never_signs_and_the_error_says_what_to_do(
    settings, keys_read_again
):
    from django.utils import timezone

    from webhooks.models import Event
    from webhooks.relay import signed_headers

    endpoint = an_endpoint()
    event = Event.objects.create(
        type="client.created", version=1, payload={}, created_at=timezone.now()
    )
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "another-key-" + "y" * 50, []
    keys_read_again()
    unreadable = Endpoint.objects.get(pk=endpoint.pk)
    assert unreadable.secret != endpoint.secret  # the field hands back what is stored
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FALLBACKS"):
        signed_headers(unreadable, event, b"{}", timezone.now())


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_stored_secrets_and_decrypts_them_going_back():
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("webhooks", "0001_initial"), ("webhooks", "0002_secrets_encrypted")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO webhooks_endpoint
                   (url, description, event_types, is_active, secret, previous_secret,
                    consecutive_failures, disabled_reason, created_at, updated_at)
                   VALUES ('https://example.com/h', '', '[]', true, 'whsec_plain', '', 0, '',
                           now(), now())
                   RETURNING id"""
            )
            (pk,) = cursor.fetchone()
        executor = MigrationExecutor(connection)
        executor.migrate([after])
        endpoint = Endpoint(pk=pk)
        secret, previous = stored(endpoint)
        assert "plain" not in secret
        assert previous == ""
        assert Endpoint.objects.get(pk=pk).secret == "whsec_plain"
        executor = MigrationExecutor(connection)
        executor.migrate([before])
        assert stored(endpoint) == ("whsec_plain", "")
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
