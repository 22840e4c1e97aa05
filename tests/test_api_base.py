"""The API's ground rules: authentication, token scope, errors, pagination, schema."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import api_token_issue, api_token_revoke
from core.models import Heartbeat
from tests.factories import AccountManagerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_api")]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def user():
    return AccountManagerFactory()


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_anonymous_calls_get_401_in_the_error_format(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {
        "type": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "errors": [],
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_authenticates_as_its_user(api, user):
    _, raw = api_token_issue(user=user, name="crm")
    response = api.get("/api/v1/me/", **bearer(raw))
    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert response.json()["token_read_only"] is False


def test_the_token_keyword_is_accepted_too(api, user):
    _, raw = api_token_issue(user=user, name="crm")
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 200


def test_only_a_digest_of_the_token_is_stored(user):
    token, raw = api_token_issue(user=user, name="crm")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    # The secret is URL-safe base64 and may hold "_" itself: split twice at most (split
    # at every "_", its last piece could be a character or two, found by chance).
    secret = raw.split("_", 2)[2]
    assert len(secret) >= 40
    assert all(raw != value and secret not in str(value) for value in stored.values())


@pytest.mark.parametrize("raw", ["mat_nope_nope", "garbage", "mat__x"])
def test_a_wrong_token_gets_401(api, user, raw):
    api_token_issue(user=user, name="crm")
    response = api.get("/api/v1/me/", **bearer(raw))
    assert response.status_code == 401
    assert response.json()["type"] == "authentication_failed"


def test_a_token_with_the_right_prefix_but_wrong_secret_gets_401(api, user):
    _, raw = api_token_issue(user=user, name="crm")
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert api.get("/api/v1/me/", **bearer(forged)).status_code == 401


def test_a_revoked_token_gets_401(api, user):
    token, raw = api_token_issue(user=user, name="crm")
    api_token_revoke(token=token)
    assert api.get("/api/v1/me/", **bearer(raw)).status_code == 401


def test_an_inactive_users_token_gets_401(api, user):
    _, raw = api_token_issue(user=user, name="crm")
    user.is_active = False
    user.save()
    assert api.get("/api/v1/me/", **bearer(raw)).status_code == 401


def test_a_read_only_token_may_read_but_not_write(api, user):
    _, raw = api_token_issue(user=user, name="bi", read_only=True)
    assert api.get("/api/test/heartbeats/", **bearer(raw)).status_code == 200
    response = api.post(
        "/api/test/heartbeats/", {"source": "x", "beats": 1}, format="json", **bearer(raw)
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token is read-only."
    assert not Heartbeat.objects.exists()


def test_using_a_token_records_when_it_was_last_used(api, user):
    token, raw = api_token_issue(user=user, name="crm")
    assert token.last_used_at is None
    api.get("/api/v1/me/", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert (timezone.now() - token.last_used_at).total_seconds() < 60


def test_session_authentication_works_for_the_browser(api, user):
    api.force_login(user)
    assert api.get("/api/v1/me/").json()["token_read_only"] is None


def test_validation_errors_list_every_field_with_its_path(api, user):
    api.force_login(user)
    response = api.post(
        "/api/test/validate/",
        [{"question": 1, "value": 3}, {"question": "x", "value": 9}],
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["detail"] == "Invalid input."
    assert body["errors"] == [
        {"field": "1.question", "code": "invalid", "message": "A valid integer is required."},
        {
            "field": "1.value",
            "code": "max_value",
            "message": "Ensure this value is less than or equal to 5.",
        },
    ]


def test_malformed_json_is_a_parse_error(api, user):
    api.force_login(user)
    response = api.post("/api/test/validate/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "parse_error"


def test_an_unknown_api_url_answers_json_404(api, user):
    api.force_login(user)
    response = api.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json() == {"type": "not_found", "detail": "Not found.", "errors": []}


def test_an_unexpected_error_answers_json_500_without_details(api, user):
    api.force_login(user)
    api.raise_request_exception = False
    response = api.get("/api/test/broken/")
    assert response.status_code == 500
    assert response.json()["type"] == "server_error"
    assert "boom" not in response.content.decode()


def test_errors_speak_the_callers_language(api):
    response = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 401
    assert response.json()["detail"] == "As credenciais de autenticação não foram fornecidas."


def test_lists_use_cursor_pagination(api, user):
    Heartbeat.objects.bulk_create(
        Heartbeat(source=f"s{i}", beats=i, last_seen=timezone.now()) for i in range(7)
    )
    api.force_login(user)
    first = api.get("/api/test/heartbeats/?page_size=5").json()
    assert [row["source"] for row in first["results"]] == ["s6", "s5", "s4", "s3", "s2"]
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    assert [row["source"] for row in second["results"]] == ["s1", "s0"]
    assert second["next"] is None


def test_page_size_is_capped(api, user):
    api.force_login(user)
    Heartbeat.objects.bulk_create(
        Heartbeat(source=f"s{i}", beats=i, last_seen=timezone.now()) for i in range(205)
    )
    assert len(api.get("/api/test/heartbeats/?page_size=1000").json()["results"]) == 200


def test_the_schema_and_docs_need_a_login(api, user):
    assert api.get("/api/schema/").status_code == 401
    assert api.get("/api/docs/").status_code in {401, 403}
    api.force_login(user)
    schema = api.get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert "apiToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_loads_its_assets_from_our_own_static_files(client, user):
    client.force_login(user)
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()


def test_the_schema_validates_without_warnings():
    out = io.StringIO()
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--urlconf", "maturity.urls", stdout=out
    )
    assert "openapi: 3" in out.getvalue()


def test_issue_token_prints_a_working_token(api, user, capsys):
    call_command("issue_token", user.username, "--read-only")
    raw = capsys.readouterr().out.strip()
    response = api.get("/api/v1/me/", **bearer(raw))
    assert response.json()["token_read_only"] is True
    assert ApiToken.objects.get().read_only


def test_issue_token_refuses_an_unknown_user():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("issue_token", "ghost")


def test_json_nested_too_deeply_is_a_parse_error_not_a_server_error(api, user):
    api.force_login(user)
    body = "[" * 50_000 + "]" * 50_000
    response = api.post("/api/test/validate/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "parse_error"


def test_a_token_is_read_with_its_user_in_one_statement_as_the_orm_reads_them(
    user, django_assert_num_queries
):
    from accounts.models import User
    from api.services import api_token_authenticate

    token, raw = api_token_issue(user=user, name="crm", read_only=True)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    with django_assert_num_queries(1):
        read = api_token_authenticate(raw)
    assert read is not None
    stored = ApiToken.objects.get(pk=token.pk)
    for model, ours, orms in ((ApiToken, read, stored), (User, read.user, stored.user)):
        fields = [f.attname for f in model._meta.concrete_fields]
        assert {f: getattr(ours, f) for f in fields} == {f: getattr(orms, f) for f in fields}
