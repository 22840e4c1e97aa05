"""Webhooks in the admin: readable by operators, never editable there, and never showing a
signing secret."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.events import client_data
from tests.factories import ClientFactory, DirectorFactory
from webhooks import services
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_operators_read_endpoints_events_and_deliveries_without_the_secret(admin_client):
    endpoint = services.endpoint_create(
        url="https://example.com/hook", event_types=["client.created"], by=DirectorFactory()
    )
    services.event_record("client.created", client_data(ClientFactory()))
    delivery = Delivery.objects.get()
    for name, pk in (
        ("endpoint", endpoint.pk),
        ("event", delivery.event_id),
        ("delivery", delivery.pk),
    ):
        listed = admin_client.get(reverse(f"admin:webhooks_{name}_changelist"))
        assert listed.status_code == 200
        page = admin_client.get(reverse(f"admin:webhooks_{name}_change", args=[pk]))
        assert page.status_code == 200
        assert endpoint.secret not in page.content.decode()
        assert admin_client.get(reverse(f"admin:webhooks_{name}_add")).status_code == 403
    changed = admin_client.post(
        reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
        {"url": "https://evil.example.com/"},
    )
    assert changed.status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.url == "https://example.com/hook"
