"""Optimistic concurrency on clients, engagements, stakeholders, past experiences and
timeline entries: detail reads carry an ETag; a write with a stale If-Match is a 412 with
the row as it is now, and changes nothing."""

from __future__ import annotations

import pytest

from clients import services as clients_services
from tests.test_clients_api import CHANGES, MODELS, RESOURCES, make_row, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_write_with_the_current_tag_is_applied_and_a_stale_one_is_refused(
    as_a, a_client, resource
):
    row = make_row(resource, a_client)
    read = as_a.get(url(resource, row.pk))
    tag = read["ETag"]
    assert tag.startswith('"')
    assert as_a.get(url(resource, row.pk))["ETag"] == tag  # stable while nothing changes
    changed = as_a.patch(url(resource, row.pk), CHANGES[resource], format="json", HTTP_IF_MATCH=tag)
    assert changed.status_code == 200, changed.json()
    new_tag = changed["ETag"]
    assert new_tag != tag
    assert as_a.get(url(resource, row.pk))["ETag"] == new_tag
    # The first tag is stale now: refused, with the row as it is.
    field, value = next(iter(CHANGES[resource].items()))
    stale = as_a.patch(
        url(resource, row.pk), {field: "Overwritten"}, format="json", HTTP_IF_MATCH=tag
    )
    assert stale.status_code == 412
    body = stale.json()
    assert body["type"] == "precondition_failed"
    assert body["current"][field] == value
    assert stale["ETag"] == new_tag
    assert getattr(MODELS[resource].objects.get(pk=row.pk), field) == value
    assert as_a.delete(url(resource, row.pk), HTTP_IF_MATCH=tag).status_code == 412  # nor deleted
    assert MODELS[resource].objects.filter(pk=row.pk).exists()


def test_a_change_made_elsewhere_makes_the_tag_stale(as_a, a_client, manager_a):
    tag = as_a.get(url("clients", a_client.pk))["ETag"]
    clients_services.client_update(client=a_client, by=manager_a, notes="Changed on the page.")
    answer = as_a.put(
        url("clients", a_client.pk),
        {"name": "Aurora", "segment": "retail", "size": "large", "country": "BR"},
        format="json",
        HTTP_IF_MATCH=tag,
    )
    assert answer.status_code == 412
    assert answer.json()["current"]["notes"] == "Changed on the page."
    a_client.refresh_from_db()
    assert a_client.name == "Aurora Varejo S.A."


def test_the_tag_in_a_list_of_tags_or_a_star_matches(as_a, a_client):
    tag = as_a.get(url("engagements", make_row("engagements", a_client).pk))["ETag"]
    engagement = a_client.engagements.get()
    listed = as_a.patch(
        url("engagements", engagement.pk),
        {"description": "One"},
        format="json",
        HTTP_IF_MATCH=f'"0000", {tag}',
    )
    assert listed.status_code == 200
    anything = as_a.patch(
        url("engagements", engagement.pk), {"description": "Two"}, format="json", HTTP_IF_MATCH="*"
    )
    assert anything.status_code == 200
    weak = as_a.patch(
        url("engagements", engagement.pk),
        {"description": "Three"},
        format="json",
        HTTP_IF_MATCH="W/" + anything["ETag"],
    )
    assert weak.status_code == 412  # If-Match compares strongly


def test_without_if_match_a_write_is_applied_as_before(as_a, a_client):
    answer = as_a.patch(url("clients", a_client.pk), {"notes": "No condition."}, format="json")
    assert answer.status_code == 200
    assert answer["ETag"]


def test_a_read_with_the_current_tag_in_if_none_match_is_a_304(as_a, a_client):
    tag = as_a.get(url("clients", a_client.pk))["ETag"]
    again = as_a.get(url("clients", a_client.pk), HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304
    assert again["ETag"] == tag
    assert not again.content


def test_a_create_answers_with_the_new_rows_tag(as_a, a_client):
    made = as_a.post(url("stakeholders"), {"client": a_client.pk, "name": "Ana"}, format="json")
    assert made.status_code == 201
    assert made["ETag"] == as_a.get(url("stakeholders", made.json()["id"]))["ETag"]


def test_another_managers_row_is_404_whatever_the_condition(as_a, b_client):
    assert as_a.patch(url("clients", b_client.pk), {}, HTTP_IF_MATCH="*").status_code == 404
