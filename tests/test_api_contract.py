"""The OpenAPI contract declares what the API really does with idempotency keys and
conditional requests (api/schema.py)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

CONDITIONAL = ("clients", "engagements", "stakeholders", "past-experiences", "timeline-entries")


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator(urlconf="maturity.urls").get_schema(request=None, public=True)


def header_names(operation: dict) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_post_takes_an_idempotency_key_and_declares_its_refusals(schema):
    posts = [(path, ops["post"]) for path, ops in schema["paths"].items() if "post" in ops]
    assert len(posts) > 10
    for path, operation in posts:
        assert "Idempotency-Key" in header_names(operation), path
        assert {"409", "422"} <= set(operation["responses"]), path
        (key,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)


@pytest.mark.parametrize("resource", CONDITIONAL)
def test_the_conditional_resources_declare_their_tags_and_preconditions(schema, resource):
    detail = schema["paths"][f"/api/v1/{resource}/{{id}}/"]
    for method in ("put", "patch", "delete"):
        assert "If-Match" in header_names(detail[method]), method
        assert "412" in detail[method]["responses"], method
    assert "If-None-Match" in header_names(detail["get"])
    assert "ETag" in detail["get"]["responses"]["200"]["headers"]
    assert "304" in detail["get"]["responses"]
    assert "ETag" in detail["patch"]["responses"]["200"]["headers"]
    listing = schema["paths"][f"/api/v1/{resource}/"]
    assert "If-None-Match" not in header_names(listing["get"])


def test_other_resources_promise_no_tags(schema):
    detail = schema["paths"]["/api/v1/education-actions/{id}/"]
    assert "If-Match" not in header_names(detail["patch"])
    assert "412" not in detail["patch"]["responses"]


def test_every_operation_declares_the_refusals_every_call_can_get(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert "400" in codes, (method, path)
            error = operation["responses"]["403"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ApiError"}


def test_an_action_added_by_hand_has_no_template_and_the_schema_says_it_may_be_null(schema):
    template = schema["components"]["schemas"]["EducationAction"]["properties"]["template"]
    assert template.get("nullable") is True


def test_what_the_api_refuses_the_schema_does_not_offer(schema):
    """Found by schemathesis: requests the schema called valid were refused."""
    clients = schema["paths"]["/api/v1/clients/"]["get"]["parameters"]
    (page_size,) = [p for p in clients if p["name"] == "page_size"]
    assert page_size["schema"]["minimum"] == 1
    mine = {p["name"] for p in schema["paths"]["/api/v1/dashboard/mine/"]["get"]["parameters"]}
    portfolio = schema["paths"]["/api/v1/dashboard/portfolio/"]["get"]
    assert "owner" not in mine
    assert "owner" in {p["name"] for p in portfolio["parameters"]}
    (page,) = [p for p in portfolio["parameters"] if p["name"] == "page"]
    assert page["schema"]["minimum"] == 1
    assert "400" in portfolio["responses"]


def test_the_event_types_are_declared_as_a_list(schema):
    answer = schema["paths"]["/api/v1/webhook-endpoints/event-types/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["type"] == "array"
