"""Requests that used to end in a 500 (found by fuzzing the API): each gets a clear 4xx in
the API's error shape, and loses nothing."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from assessments.services import assessment_start
from clients.models import Engagement
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db


def cursor(query: str) -> str:
    return base64.b64encode(query.encode()).decode()


def test_deleting_an_engagement_with_assessments_is_refused_and_explained(
    as_a, client, a_client, manager_a
):
    engagement = EngagementFactory(client=a_client)
    assessment_start(engagement=engagement, by=manager_a)
    response = as_a.delete(f"/api/v1/engagements/{engagement.pk}/")
    assert response.status_code == 400
    assert "cannot be deleted" in response.json()["errors"][0]["message"]
    client.force_login(manager_a)
    url = reverse("clients:section_delete", args=[a_client.pk, "engagements", engagement.pk])
    in_place = client.post(url, HTTP_HX_REQUEST="true")
    assert in_place.status_code == 200
    assert "cannot be deleted" in in_place.content.decode()
    whole_page = client.post(url, follow=True)
    assert "cannot be deleted" in whole_page.content.decode()
    assert Engagement.objects.filter(pk=engagement.pk).exists()


def test_a_cursor_whose_position_is_not_an_id_is_an_invalid_cursor(as_a):
    for position in ("abc", "1.5"):
        response = as_a.get("/api/v1/clients/", {"cursor": cursor(f"p={position}")})
        assert response.status_code == 404, position
        assert response.json() == {"type": "not_found", "detail": "Invalid cursor", "errors": []}


def test_a_nul_in_the_query_is_a_bad_request(as_a, client, manager_a):
    response = as_a.get("/api/v1/questionnaire-versions/?questionnaire=%00")
    assert response.status_code == 400
    assert response.json()["type"] == "bad_request"
    client.force_login(manager_a)
    assert client.get("/clients/?q=a%00b").status_code == 400


def test_a_body_too_large_or_with_too_many_fields_gets_the_api_error_shape(as_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = as_a.post(
        "/api/v1/clients/", "x=" + "a" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert big.status_code == 400
    assert big.json()["type"] == "bad_request"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000_000
    many = "&".join(f"f{i}=1" for i in range(1001))
    fields = as_a.post("/api/v1/clients/", many, content_type="application/x-www-form-urlencoded")
    assert fields.status_code == 400
    assert fields.json()["type"] == "bad_request"
