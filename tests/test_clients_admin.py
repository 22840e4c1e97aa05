"""The admin writes through the services: validated, audited, phase history kept."""

from __future__ import annotations

import pytest

from clients.models import AuditEvent, Client, EngagementPhaseChange, Phase
from tests.factories import (
    AccountManagerFactory,
    AdministratorFactory,
    ClientFactory,
    EngagementFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdministratorFactory(is_superuser=True))
    return client


def test_creating_a_client_in_the_admin_is_audited(admin_client):
    owner = AccountManagerFactory()
    response = admin_client.post(
        "/admin/clients/client/add/",
        {
            "name": "Banco Admin",
            "segment": "banking",
            "size": "large",
            "country": "BR",
            "owner": owner.pk,
            "is_active": "on",
            "engagements-TOTAL_FORMS": 0,
            "engagements-INITIAL_FORMS": 0,
            "stakeholders-TOTAL_FORMS": 0,
            "stakeholders-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get(name="Banco Admin")
    assert client.owner == owner
    assert AuditEvent.objects.get(client=client).action == "created"


def test_changing_a_phase_in_the_admin_records_the_phase_history(admin_client):
    engagement = EngagementFactory(client=ClientFactory(), phase=Phase.CONTRACTING)
    response = admin_client.post(
        f"/admin/clients/engagement/{engagement.pk}/change/",
        {
            "client": engagement.client.pk,
            "process_type": "collections",
            "phase": "transition",
            "description": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    change = EngagementPhaseChange.objects.get(engagement=engagement)
    assert (change.from_phase, change.to_phase) == ("contracting", "transition")


def test_the_audit_trail_is_read_only_in_the_admin(admin_client):
    ClientFactory()
    assert admin_client.get("/admin/clients/auditevent/").status_code == 200
    assert admin_client.get("/admin/clients/auditevent/add/").status_code == 403
