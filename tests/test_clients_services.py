"""The client services: validation on every write path, and the audit trail they keep."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from clients.models import AuditAction, AuditEvent, Client
from clients.services import client_create, client_update, clients_import
from tests.factories import AccountManagerFactory, AdministratorFactory, DirectorFactory

pytestmark = pytest.mark.django_db

FIELDS = {"segment": "banking", "size": "large", "country": "BR"}


def test_team_members_must_be_active_managers_or_directors():
    owner = AccountManagerFactory()
    for outsider in (AdministratorFactory(), AccountManagerFactory(is_active=False)):
        with pytest.raises(ValidationError) as error:
            client_create(by=None, name="X", owner=owner, team_members=[outsider], **FIELDS)
        assert "team_members" in error.value.message_dict
    assert not Client.objects.exists()


def test_the_created_event_lists_the_first_team():
    owner, mate = AccountManagerFactory(first_name="Ana"), DirectorFactory(first_name="Bia")
    client = client_create(by=owner, name="X", owner=owner, team_members=[mate], **FIELDS)
    event = AuditEvent.objects.get(client=client)
    assert event.changes["team_members"] == [None, str(mate)]


def test_a_new_owner_with_the_same_name_is_still_a_recorded_change():
    first = AccountManagerFactory(first_name="Ana", last_name="Lima")
    second = AccountManagerFactory(first_name="Ana", last_name="Lima")
    client = client_create(by=None, name="X", owner=first, **FIELDS)
    client_update(client=client, by=None, owner=second)
    assert AuditEvent.objects.filter(client=client, action=AuditAction.UPDATED).count() == 1


def test_a_duplicate_name_is_reported_on_the_name_field():
    owner = AccountManagerFactory()
    client_create(by=None, name="Banco Sol", owner=owner, **FIELDS)
    with pytest.raises(ValidationError) as error:
        client_create(by=None, name="banco sol", owner=owner, **FIELDS)
    assert error.value.message_dict == {"name": ["A client with this name already exists."]}


def test_a_bulk_import_costs_the_same_queries_for_10_and_100_clients(count_queries):
    owner, mate = AccountManagerFactory(), DirectorFactory()

    def queries(n: int, prefix: str) -> int:
        rows = [({"name": f"{prefix}{i}", "owner": owner, **FIELDS}, [mate]) for i in range(n)]
        with count_queries() as captured:
            clients_import(rows=rows, by=None)
        return captured.count

    assert queries(10, "a") == queries(100, "b")
    assert Client.objects.count() == 110
    assert AuditEvent.objects.filter(action=AuditAction.IMPORTED).count() == 110


def test_a_bulk_import_refuses_an_owner_who_is_not_an_account_manager():
    with pytest.raises(ValidationError):
        clients_import(rows=[({"name": "X", "owner": DirectorFactory(), **FIELDS}, [])], by=None)
    assert not Client.objects.exists()
