"""What the clients app's webhook events carry (webhooks.events lists the fields)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from clients.models import Client, Engagement
from core.links import site_url


def client_data(client: Client) -> dict[str, Any]:
    return {
        "client": client.pk,
        "name": client.name,
        "segment": client.segment,
        "size": client.size,
        "country": client.country,
        "owner": client.owner_id,
        "archived": not client.is_active,
        "url": site_url(reverse("clients:detail", args=[client.pk])),
    }


def phase_changed_data(engagement: Engagement, *, previous_phase: str) -> dict[str, Any]:
    return {
        "engagement": engagement.pk,
        "client": engagement.client_id,
        "client_name": engagement.client.name,
        "process_type": engagement.process_type,
        "phase": engagement.phase,
        "previous_phase": previous_phase,
        "url": site_url(reverse("clients:detail", args=[engagement.client_id])),
    }
