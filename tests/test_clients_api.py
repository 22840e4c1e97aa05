"""The clients API: who sees what, how bad input is refused, how many queries a list costs,
and that writes go through the services (audit trail, phase history)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from api.services import api_token_issue
from clients.models import (
    AuditAction,
    AuditEvent,
    Client,
    Engagement,
    EngagementPhaseChange,
    PastExperience,
    Phase,
    Stakeholder,
    TimelineEntry,
)
from tests.factories import (
    AccountManagerFactory,
    AdministratorFactory,
    ClientFactory,
    DirectorFactory,
    EngagementFactory,
    PastExperienceFactory,
    StakeholderFactory,
    TimelineEntryFactory,
)

pytestmark = pytest.mark.django_db

MODELS: dict[str, type[Any]] = {
    "clients": Client,
    "engagements": Engagement,
    "stakeholders": Stakeholder,
    "past-experiences": PastExperience,
    "timeline-entries": TimelineEntry,
}
RESOURCES = list(MODELS)
CHILD_RESOURCES = RESOURCES[1:]
CHILD_FACTORIES: dict[str, Any] = {
    "engagements": EngagementFactory,
    "stakeholders": StakeholderFactory,
    "past-experiences": PastExperienceFactory,
    "timeline-entries": TimelineEntryFactory,
}
# A harmless change per resource, and the field it lands on.
CHANGES = {
    "clients": {"notes": "Changed by the test."},
    "engagements": {"description": "Changed by the test."},
    "stakeholders": {"notes": "Changed by the test."},
    "past-experiences": {"notes": "Changed by the test."},
    "timeline-entries": {"body": "Changed by the test."},
}
MISSING_ID = 999_999_999


def url(resource: str, pk: int | None = None) -> str:
    return f"/api/v1/{resource}/" if pk is None else f"/api/v1/{resource}/{pk}/"


def make_row(resource: str, client: Client) -> Any:
    """A row of ``resource`` belonging to ``client`` (the client itself for "clients")."""
    if resource == "clients":
        return client
    return CHILD_FACTORIES[resource](client=client)


def valid_payload(resource: str, client: Client) -> dict[str, Any]:
    """What a create (or a full update) of ``resource`` on ``client`` needs."""
    payloads: dict[str, dict[str, Any]] = {
        "clients": {"name": "Nova Telecom", "segment": "telecom", "size": "large", "country": "BR"},
        "engagements": {"client": client.pk, "process_type": "collections"},
        "stakeholders": {"client": client.pk, "name": "Ana Lima", "influence": 4},
        "past-experiences": {
            "client": client.pk,
            "supplier": "Old BPO Ltda.",
            "process_type": "collections",
            "outcome": "failure",
            "severity": 4,
            "went_wrong": ["trust", "money"],
        },
        "timeline-entries": {
            "client": client.pk,
            "kind": "note",
            "occurred_on": "2026-05-01",
            "title": "Kick-off meeting",
        },
    }
    return payloads[resource]


def errors_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 400, response.content[:500]
    body = response.json()
    assert body["type"] == "validation_error"
    return body["errors"]


# --- Who sees and changes what --------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_manager_lists_only_their_own_rows(as_a, a_client, b_client, resource):
    own = make_row(resource, a_client)
    make_row(resource, b_client)
    response = as_a.get(url(resource))
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [own.pk]


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_manager_gets_404_reading_another_managers_row(as_a, b_client, resource):
    row = make_row(resource, b_client)
    response = as_a.get(url(resource, row.pk))
    assert response.status_code == 404
    assert response.json()["type"] == "not_found"
    assert b_client.name not in response.content.decode()


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_manager_gets_404_patching_another_managers_row(as_a, b_client, resource):
    row = make_row(resource, b_client)
    field, value = next(iter(CHANGES[resource].items()))
    response = as_a.patch(url(resource, row.pk), CHANGES[resource], format="json")
    assert response.status_code == 404
    row.refresh_from_db()
    assert getattr(row, field) != value


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_manager_gets_404_replacing_another_managers_row(as_a, a_client, b_client, resource):
    row = make_row(resource, b_client)
    response = as_a.put(url(resource, row.pk), valid_payload(resource, a_client), format="json")
    assert response.status_code == 404
    assert not AuditEvent.objects.exists()
    b_client.refresh_from_db()
    assert b_client.name == "Segredo Industrial S.A."
    if resource != "clients":
        assert type(row).objects.get(pk=row.pk).client_id == b_client.pk


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_manager_gets_404_deleting_another_managers_row(as_a, b_client, resource):
    row = make_row(resource, b_client)
    response = as_a.delete(url(resource, row.pk))
    assert response.status_code == 404
    assert type(row).objects.filter(pk=row.pk).exists()
    b_client.refresh_from_db()
    assert b_client.is_active


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_adding_a_row_to_another_managers_client_fails_like_a_client_that_does_not_exist(
    as_a, b_client, resource
):
    hidden = as_a.post(url(resource), valid_payload(resource, b_client), format="json")
    missing = as_a.post(
        url(resource), valid_payload(resource, b_client) | {"client": MISSING_ID}, format="json"
    )
    [hidden_error] = errors_of(hidden)
    [missing_error] = errors_of(missing)
    assert hidden_error["field"] == missing_error["field"] == "client"
    assert hidden_error["code"] == missing_error["code"] == "does_not_exist"
    assert hidden_error["message"].replace(str(b_client.pk), "ID") == missing_error[
        "message"
    ].replace(str(MISSING_ID), "ID")
    assert b_client.name not in hidden.content.decode()
    assert not MODELS[resource].objects.exists()


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_filtering_by_another_managers_client_fails_like_a_client_that_does_not_exist(
    as_a, b_client, resource
):
    make_row(resource, b_client)
    [hidden_error] = errors_of(as_a.get(url(resource), {"client": b_client.pk}))
    [missing_error] = errors_of(as_a.get(url(resource), {"client": MISSING_ID}))
    assert hidden_error == missing_error
    assert hidden_error["field"] == "client"
    assert b_client.name not in hidden_error["message"]


def test_a_timeline_entry_cannot_point_at_another_managers_engagement(as_a, a_client, b_client):
    hidden = EngagementFactory(client=b_client)
    payload = valid_payload("timeline-entries", a_client) | {"engagement": hidden.pk}
    [error] = errors_of(as_a.post(url("timeline-entries"), payload, format="json"))
    assert (error["field"], error["code"]) == ("engagement", "does_not_exist")
    assert not TimelineEntry.objects.exists()


def test_a_team_member_sees_the_client_in_the_list(as_a, manager_a, b_client):
    b_client.team_members.add(manager_a)
    response = as_a.get(url("clients"))
    assert [row["id"] for row in response.json()["results"]] == [b_client.pk]


def test_a_team_member_can_edit_the_client(as_a, manager_a, b_client):
    b_client.team_members.add(manager_a)
    response = as_a.patch(url("clients", b_client.pk), {"notes": "Met the CFO."}, format="json")
    assert response.status_code == 200
    b_client.refresh_from_db()
    assert b_client.notes == "Met the CFO."


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_a_team_member_can_read_and_edit_the_clients_rows(as_a, manager_a, b_client, resource):
    b_client.team_members.add(manager_a)
    row = make_row(resource, b_client)
    if resource == "timeline-entries":
        row.author = manager_a  # the timeline is changed only by an entry's author
        row.save()
    assert as_a.get(url(resource, row.pk)).status_code == 200
    response = as_a.patch(url(resource, row.pk), CHANGES[resource], format="json")
    assert response.status_code == 200
    field, value = next(iter(CHANGES[resource].items()))
    row.refresh_from_db()
    assert getattr(row, field) == value


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_a_team_member_can_add_rows_to_the_client(as_a, manager_a, b_client, resource):
    b_client.team_members.add(manager_a)
    response = as_a.post(url(resource), valid_payload(resource, b_client), format="json")
    assert response.status_code == 201, response.content
    assert MODELS[resource].objects.get().client_id == b_client.pk


@pytest.mark.parametrize("role_factory", [DirectorFactory, AdministratorFactory])
@pytest.mark.parametrize("resource", RESOURCES)
def test_directors_and_administrators_see_every_managers_rows(
    api, a_client, b_client, resource, role_factory
):
    rows = [make_row(resource, a_client), make_row(resource, b_client)]
    api.force_login(role_factory())
    listed = api.get(url(resource)).json()["results"]
    assert sorted(row["id"] for row in listed) == sorted(row.pk for row in rows)
    assert all(api.get(url(resource, row.pk)).status_code == 200 for row in rows)


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_read_only_token_can_read(api, manager_a, a_client, resource):
    make_row(resource, a_client)
    _, raw = api_token_issue(user=manager_a, name="bi", read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(url(resource)).status_code == 200


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_read_only_token_cannot_create(api, manager_a, a_client, resource):
    _, raw = api_token_issue(user=manager_a, name="bi", read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    before = MODELS[resource].objects.count()
    response = api.post(url(resource), valid_payload(resource, a_client), format="json")
    assert response.status_code == 403
    assert response.json()["type"] == "permission_denied"
    assert MODELS[resource].objects.count() == before


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_read_only_token_cannot_change_or_delete(api, manager_a, a_client, resource):
    row = make_row(resource, a_client)
    _, raw = api_token_issue(user=manager_a, name="bi", read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.patch(url(resource, row.pk), CHANGES[resource], format="json").status_code == 403
    assert api.delete(url(resource, row.pk)).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()
    a_client.refresh_from_db()
    assert a_client.is_active


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_callers_get_401(api, a_client, resource):
    row = make_row(resource, a_client)
    assert api.get(url(resource)).status_code == 401
    assert api.get(url(resource, row.pk)).status_code == 401
    response = api.post(url(resource), valid_payload(resource, a_client), format="json")
    assert response.status_code == 401
    assert response.json()["type"] == "not_authenticated"


# --- Owners ---------------------------------------------------------------------------------


def test_a_manager_who_creates_a_client_owns_it_whatever_they_send(as_a, manager_a, manager_b):
    payload = valid_payload("clients", Client()) | {"owner": manager_b.pk}
    response = as_a.post(url("clients"), payload, format="json")
    assert response.status_code == 201
    assert response.json()["owner"] == manager_a.pk
    assert Client.objects.get().owner == manager_a


def test_a_director_must_choose_an_owner(api, director):
    api.force_login(director)
    response = api.post(url("clients"), valid_payload("clients", Client()), format="json")
    assert errors_of(response) == [
        {"field": "owner", "code": "required", "message": "This field is required."}
    ]
    assert not Client.objects.exists()


def test_a_director_creates_a_client_for_an_account_manager(api, director, manager_b):
    api.force_login(director)
    payload = valid_payload("clients", Client()) | {"owner": manager_b.pk}
    response = api.post(url("clients"), payload, format="json")
    assert response.status_code == 201
    assert Client.objects.get().owner == manager_b


def test_a_manager_cannot_give_a_client_away(as_a, a_client, manager_b, manager_a):
    response = as_a.patch(url("clients", a_client.pk), {"owner": manager_b.pk}, format="json")
    assert errors_of(response) == [
        {
            "field": "owner",
            "code": "owner_change_forbidden",
            "message": "Only directors and administrators may change a client's owner.",
        }
    ]
    a_client.refresh_from_db()
    assert a_client.owner == manager_a


def test_a_manager_may_send_the_owner_unchanged(as_a, a_client, manager_a):
    payload = valid_payload("clients", a_client) | {"owner": manager_a.pk}
    assert as_a.put(url("clients", a_client.pk), payload, format="json").status_code == 200


def test_a_director_can_change_the_owner(api, director, a_client, manager_b):
    api.force_login(director)
    response = api.patch(url("clients", a_client.pk), {"owner": manager_b.pk}, format="json")
    assert response.status_code == 200
    a_client.refresh_from_db()
    assert a_client.owner == manager_b
    event = AuditEvent.objects.get(client=a_client)
    assert (event.action, event.actor) == (AuditAction.UPDATED, director)
    assert set(event.changes) == {"owner"}


# --- Bad input ------------------------------------------------------------------------------


def test_a_client_without_a_name_is_refused(as_a):
    payload = valid_payload("clients", Client())
    del payload["name"]
    response = as_a.post(url("clients"), payload, format="json")
    assert errors_of(response) == [
        {"field": "name", "code": "required", "message": "This field is required."}
    ]
    assert not Client.objects.exists()


def test_a_missing_name_is_reported_in_portuguese(as_a):
    payload = valid_payload("clients", Client())
    del payload["name"]
    response = as_a.post(url("clients"), payload, format="json", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert errors_of(response) == [
        {"field": "name", "code": "required", "message": "Este campo é obrigatório."}
    ]
    assert response.json()["detail"] == "Dados inválidos."
    assert not Client.objects.exists()


def test_a_severity_of_9_is_refused(as_a, a_client):
    payload = valid_payload("past-experiences", a_client) | {"severity": 9}
    response = as_a.post(url("past-experiences"), payload, format="json")
    assert errors_of(response) == [
        {
            "field": "severity",
            "code": "max_value",
            "message": "Ensure this value is less than or equal to 5.",
        }
    ]
    assert not PastExperience.objects.exists()


def test_an_engagement_ending_before_it_starts_is_refused(as_a, a_client):
    payload = valid_payload("engagements", a_client) | {
        "start_date": "2026-05-01",
        "end_date": "2026-04-30",
    }
    response = as_a.post(url("engagements"), payload, format="json")
    assert errors_of(response) == [
        {
            "field": "end_date",
            "code": "invalid",
            "message": "The end date cannot be before the start date.",
        }
    ]
    assert not Engagement.objects.exists()
    assert not AuditEvent.objects.exists()


def test_an_engagement_cannot_be_changed_to_end_before_it_starts(as_a, a_client):
    engagement = EngagementFactory(client=a_client, start_date="2026-05-01")
    response = as_a.patch(
        url("engagements", engagement.pk), {"end_date": "2026-01-01"}, format="json"
    )
    assert [error["field"] for error in errors_of(response)] == ["end_date"]
    engagement.refresh_from_db()
    assert engagement.end_date is None
    assert not AuditEvent.objects.exists()


def test_a_past_experience_ending_before_it_starts_is_refused(as_a, a_client):
    payload = valid_payload("past-experiences", a_client) | {
        "started_on": "2024-01-01",
        "ended_on": "2023-12-31",
    }
    response = as_a.post(url("past-experiences"), payload, format="json")
    assert errors_of(response) == [
        {
            "field": "ended_on",
            "code": "invalid",
            "message": "The end date cannot be before the start date.",
        }
    ]
    assert not PastExperience.objects.exists()


def test_an_unknown_owner_id_is_refused(api, director):
    api.force_login(director)
    payload = valid_payload("clients", Client()) | {"owner": MISSING_ID}
    response = api.post(url("clients"), payload, format="json")
    assert errors_of(response) == [
        {
            "field": "owner",
            "code": "does_not_exist",
            "message": f'Invalid pk "{MISSING_ID}" - object does not exist.',
        }
    ]
    assert not Client.objects.exists()


def test_a_director_cannot_own_a_client(api, director):
    api.force_login(director)
    payload = valid_payload("clients", Client()) | {"owner": director.pk}
    response = api.post(url("clients"), payload, format="json")
    assert errors_of(response) == [
        {
            "field": "owner",
            "code": "invalid",
            "message": "The owner must be an active account manager.",
        }
    ]
    assert not Client.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_10_mb_note_is_refused(as_a):
    payload = valid_payload("clients", Client()) | {"notes": "x" * (10 * 1024 * 1024)}
    response = as_a.post(url("clients"), payload, format="json")
    [error] = errors_of(response)
    assert (error["field"], error["code"]) == ("notes", "max_length")
    assert error["message"].startswith("Ensure this value has at most 20000 characters")
    assert not Client.objects.exists()


def test_an_unknown_went_wrong_tag_is_refused(as_a, a_client):
    payload = valid_payload("past-experiences", a_client) | {"went_wrong": ["trust", "gossip"]}
    response = as_a.post(url("past-experiences"), payload, format="json")
    assert errors_of(response) == [
        {
            "field": "went_wrong.1",
            "code": "invalid_choice",
            "message": '"gossip" is not a valid choice.',
        }
    ]
    assert not PastExperience.objects.exists()


def test_a_timeline_entry_cannot_point_at_another_clients_engagement(as_a, manager_a, a_client):
    other = EngagementFactory(client=ClientFactory(owner=manager_a))
    payload = valid_payload("timeline-entries", a_client) | {"engagement": other.pk}
    response = as_a.post(url("timeline-entries"), payload, format="json")
    assert errors_of(response) == [
        {
            "field": "engagement",
            "code": "invalid",
            "message": "The engagement belongs to another client.",
        }
    ]
    assert not TimelineEntry.objects.exists()


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_a_row_cannot_be_moved_to_another_client(as_a, manager_a, a_client, resource):
    row = make_row(resource, a_client)
    other = ClientFactory(owner=manager_a)
    response = as_a.patch(url(resource, row.pk), {"client": other.pk}, format="json")
    assert errors_of(response) == [
        {
            "field": "client",
            "code": "client_change_forbidden",
            "message": "A row cannot be moved to another client.",
        }
    ]
    row.refresh_from_db()
    assert row.client_id == a_client.pk


def test_a_duplicate_client_name_is_refused(as_a, a_client):
    payload = valid_payload("clients", Client()) | {"name": a_client.name.upper()}
    [error] = errors_of(as_a.post(url("clients"), payload, format="json"))
    assert error["message"] == "A client with this name already exists."
    assert Client.objects.count() == 1


# --- Query counts ---------------------------------------------------------------------------


def add_rows(resource: str, owner: Any, count: int) -> None:
    """``count`` rows of ``resource`` visible to ``owner``, with everything a row shows."""
    teammate = AccountManagerFactory()
    for _ in range(count):
        client = ClientFactory(owner=owner)
        client.team_members.add(teammate, AccountManagerFactory())
        engagement = EngagementFactory(client=client)
        if resource == "timeline-entries":
            TimelineEntryFactory(client=client, engagement=engagement, author=teammate)
        elif resource not in {"clients", "engagements"}:
            CHILD_FACTORIES[resource](client=client)


def queries_to_list(count_queries, api: APIClient, resource: str, expected_rows: int) -> int:
    with count_queries() as captured:
        response = api.get(url(resource), {"page_size": 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected_rows
    return captured.count


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_list_costs_the_same_queries_for_5_and_50_rows(as_a, manager_a, resource, count_queries):
    add_rows(resource, manager_a, 5)
    with_5 = queries_to_list(count_queries, as_a, resource, 5)
    add_rows(resource, manager_a, 45)
    with_50 = queries_to_list(count_queries, as_a, resource, 50)
    assert with_5 == with_50


# --- Round trips ----------------------------------------------------------------------------


def test_creating_a_client_returns_it_and_records_the_creation(as_a, manager_a, manager_b):
    payload = valid_payload("clients", Client()) | {"team_members": [manager_b.pk]}
    response = as_a.post(url("clients"), payload, format="json")
    assert response.status_code == 201
    body = response.json()
    client = Client.objects.get()
    assert body["id"] == client.pk
    assert body["name"] == "Nova Telecom"
    assert body["team_members"] == [manager_b.pk]
    assert body["engagement_count"] == 0
    assert body["is_active"] is True
    event = AuditEvent.objects.get(client=client)
    assert (event.action, event.actor) == (AuditAction.CREATED, manager_a)


def test_a_client_reads_back_as_it_was_written(as_a, a_client):
    EngagementFactory.create_batch(2, client=a_client)
    body = as_a.get(url("clients", a_client.pk)).json()
    assert body["name"] == a_client.name
    assert body["engagement_count"] == 2


def test_changing_a_client_records_what_changed(as_a, manager_a, a_client):
    old_name = a_client.name
    response = as_a.patch(url("clients", a_client.pk), {"name": "Aurora Digital"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Aurora Digital"
    event = AuditEvent.objects.get(client=a_client)
    assert event.action == AuditAction.UPDATED
    assert event.changes == {"name": [old_name, "Aurora Digital"]}


def test_changing_the_team_records_it(as_a, a_client, manager_b):
    response = as_a.patch(
        url("clients", a_client.pk), {"team_members": [manager_b.pk]}, format="json"
    )
    assert response.json()["team_members"] == [manager_b.pk]
    assert list(a_client.team_members.all()) == [manager_b]
    assert set(AuditEvent.objects.get(client=a_client).changes) == {"team_members"}


def test_deleting_a_client_archives_it(as_a, manager_a, a_client):
    EngagementFactory(client=a_client)
    response = as_a.delete(url("clients", a_client.pk))
    assert response.status_code == 204
    a_client.refresh_from_db()
    assert a_client.is_active is False
    assert a_client.engagements.count() == 1
    event = AuditEvent.objects.get(client=a_client)
    assert (event.action, event.actor) == (AuditAction.ARCHIVED, manager_a)


def test_an_archived_client_leaves_the_list_but_stays_readable(as_a, a_client):
    as_a.delete(url("clients", a_client.pk))
    assert as_a.get(url("clients")).json()["results"] == []
    archived = as_a.get(url("clients"), {"status": "archived"}).json()["results"]
    assert [row["id"] for row in archived] == [a_client.pk]
    assert as_a.get(url("clients", a_client.pk)).json()["is_active"] is False


def test_patching_is_active_restores_an_archived_client(as_a, a_client):
    as_a.delete(url("clients", a_client.pk))
    response = as_a.patch(url("clients", a_client.pk), {"is_active": True}, format="json")
    assert response.json()["is_active"] is True
    assert AuditEvent.objects.filter(client=a_client, action=AuditAction.RESTORED).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "aurora"}, ["Aurora Varejo S.A."]),
        ({"segment": "telecom"}, ["Brisa Telecom"]),
        ({"phase": "operation"}, ["Brisa Telecom"]),
    ],
)
def test_the_client_list_filters_like_the_browser_list(as_a, manager_a, a_client, query, expected):
    brisa = ClientFactory(owner=manager_a, name="Brisa Telecom", segment="telecom")
    EngagementFactory(client=brisa, phase=Phase.OPERATION)
    results = as_a.get(url("clients"), query).json()["results"]
    assert [row["name"] for row in results] == expected


def test_the_client_list_is_newest_first_whatever_ordering_is_asked(as_a, manager_a):
    names = ["Alfa", "Charlie", "Bravo"]
    for name in names:
        ClientFactory(owner=manager_a, name=name)
    results = as_a.get(url("clients"), {"ordering": "name"}).json()["results"]
    assert [row["name"] for row in results] == list(reversed(names))


def test_creating_an_engagement_records_it_and_its_first_phase(as_a, manager_a, a_client):
    payload = valid_payload("engagements", a_client) | {"phase": "contracting"}
    response = as_a.post(url("engagements"), payload, format="json")
    assert response.status_code == 201
    engagement = Engagement.objects.get()
    assert response.json()["phase_changed_at"] is not None
    event = AuditEvent.objects.get(engagement=engagement)
    assert (event.action, event.actor) == (AuditAction.CREATED, manager_a)
    change = EngagementPhaseChange.objects.get(engagement=engagement)
    assert (change.from_phase, change.to_phase) == ("", Phase.CONTRACTING)


def test_patching_the_phase_records_a_phase_change(as_a, manager_a, a_client):
    engagement = EngagementFactory(client=a_client)
    response = as_a.patch(
        url("engagements", engagement.pk), {"phase": "contracting"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["phase"] == "contracting"
    change = EngagementPhaseChange.objects.get(engagement_id=engagement.pk)
    assert (change.from_phase, change.to_phase, change.changed_by) == (
        Phase.PROSPECT,
        Phase.CONTRACTING,
        manager_a,
    )
    event = AuditEvent.objects.get(engagement_id=engagement.pk)
    assert event.action == AuditAction.PHASE_CHANGED
    assert event.changes == {"phase": ["prospect", "contracting"]}


def test_deleting_an_engagement_records_it(as_a, manager_a, a_client):
    engagement = EngagementFactory(client=a_client)
    assert as_a.delete(url("engagements", engagement.pk)).status_code == 204
    assert not Engagement.objects.exists()
    event = AuditEvent.objects.get(client=a_client)
    assert (event.action, event.actor) == (AuditAction.DELETED, manager_a)


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_a_row_can_be_created_read_changed_and_deleted(as_a, a_client, resource):
    created = as_a.post(url(resource), valid_payload(resource, a_client), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert as_a.get(url(resource, pk)).json() == created.json()
    changed = as_a.patch(url(resource, pk), CHANGES[resource], format="json")
    assert changed.status_code == 200
    assert changed.json().items() >= CHANGES[resource].items()
    assert as_a.delete(url(resource, pk)).status_code == 204
    assert not MODELS[resource].objects.exists()


@pytest.mark.parametrize("resource", CHILD_RESOURCES)
def test_a_row_can_be_replaced_with_put(as_a, a_client, resource):
    row = make_row(resource, a_client)
    payload = valid_payload(resource, a_client) | CHANGES[resource]
    response = as_a.put(url(resource, row.pk), payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json().items() >= payload.items()


def test_the_timeline_author_is_the_caller_whatever_they_send(as_a, manager_a, manager_b, a_client):
    payload = valid_payload("timeline-entries", a_client) | {"author": manager_b.pk}
    response = as_a.post(url("timeline-entries"), payload, format="json")
    assert response.json()["author"] == manager_a.pk
    assert TimelineEntry.objects.get().author == manager_a


def test_past_experience_tags_round_trip(as_a, a_client):
    response = as_a.post(
        url("past-experiences"), valid_payload("past-experiences", a_client), format="json"
    )
    assert response.json()["went_wrong"] == ["trust", "money"]
    assert PastExperience.objects.get().went_wrong == ["trust", "money"]


def test_a_team_member_cannot_change_someone_elses_timeline_entry(as_a, manager_a, b_client):
    b_client.team_members.add(manager_a)
    entry = TimelineEntryFactory(client=b_client, body="As written.")
    assert as_a.get(url("timeline-entries", entry.pk)).status_code == 200
    response = as_a.patch(url("timeline-entries", entry.pk), {"body": "Rewritten."}, format="json")
    assert response.status_code == 403
    assert response.json()["type"] == "permission_denied"
    assert as_a.delete(url("timeline-entries", entry.pk)).status_code == 403
    entry.refresh_from_db()
    assert entry.body == "As written."


def test_a_director_can_change_any_timeline_entry(api, director, a_client):
    entry = TimelineEntryFactory(client=a_client)
    api.force_authenticate(director)
    response = api.patch(url("timeline-entries", entry.pk), {"body": "Corrected."}, format="json")
    assert response.status_code == 200


def test_a_changed_client_is_answered_as_a_read_shows_it(as_a, a_client):
    """The fuzzer's find: PUT and PATCH answered without engagement_count."""
    EngagementFactory(client=a_client)
    changed = as_a.patch(url("clients", a_client.pk), {"notes": "Read back."}, format="json")
    assert changed.json() == as_a.get(url("clients", a_client.pk)).json()
    assert changed.json()["engagement_count"] == 1


@pytest.mark.parametrize("team", [{}, {"3": 1}, "3", 3])
def test_team_members_must_be_a_list(as_a, a_client, team):
    """The fuzzer's find: a JSON object's keys were read as ids ({} emptied the team)."""
    as_a.patch(url("clients", a_client.pk), {"team_members": []}, format="json")
    response = as_a.patch(url("clients", a_client.pk), {"team_members": team}, format="json")
    assert [e["field"] for e in errors_of(response)] == ["team_members"]


@pytest.mark.parametrize(
    ("resource", "query", "field"),
    [
        ("clients", "status=AAA", "status"),
        ("clients", "page_size=null", "page_size"),
        ("clients", "page_size=0", "page_size"),
        ("past-experiences", "severity=0.5", "severity"),
        ("past-experiences", "min_severity=abc", "min_severity"),
        ("stakeholders", "influence=2.5", "influence"),
        # An empty date, number, choice or row: a value lost on the way, not "everything".
        ("timeline-entries", "until=", "until"),
        ("clients", "segment=", "segment"),
        ("engagements", "client=", "client"),
        ("past-experiences", "severity=", "severity"),
    ],
)
def test_a_query_value_of_the_wrong_kind_is_a_400_naming_it(as_a, a_client, resource, query, field):
    """Never silently read as something else (status=AAA was read as active)."""
    response = as_a.get(f"{url(resource)}?{query}")
    assert response.status_code == 400, response.content[:300]
    assert field in {e["field"] for e in response.json()["errors"]}


def test_an_empty_search_is_no_search(as_a, a_client):
    # Text may be empty: the pages' search box and an integration's both send q= alike.
    response = as_a.get(f"{url('clients')}?q=")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [a_client.pk]


def test_without_a_status_the_api_lists_active_clients(as_a, a_client, manager_a):
    archived = ClientFactory(owner=manager_a, is_active=False)
    listed = {row["id"] for row in as_a.get(url("clients")).json()["results"]}
    assert a_client.pk in listed
    assert archived.pk not in listed
    every = {row["id"] for row in as_a.get(url("clients") + "?status=all").json()["results"]}
    assert archived.pk in every
