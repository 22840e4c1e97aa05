"""The education API: actions, playbooks and notifications, scoped like the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from education import services
from education.models import ActionStatus, EducationAction, Notification, NotificationKind
from tests.factories import EducationActionFactory, EngagementFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/education-actions/"


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client)


@pytest.fixture
def action(engagement):
    return EducationActionFactory(engagement=engagement, title="Process walkthrough")


@pytest.fixture
def others_action(b_client):
    return EducationActionFactory(engagement=EngagementFactory(client=b_client), title="Hidden")


def test_anonymous_calls_get_401(api):
    assert api.get(URL).status_code == 401


def test_the_list_holds_only_the_callers_clients_actions(as_a, action, others_action):
    rows = as_a.get(URL).json()["results"]
    assert [r["title"] for r in rows] == ["Process walkthrough"]


def test_directors_see_every_action(api, director, action, others_action):
    api.force_login(director)
    assert len(api.get(URL).json()["results"]) == 2


def test_another_managers_action_answers_404_everywhere(as_a, others_action):
    detail = f"{URL}{others_action.pk}/"
    assert as_a.get(detail).status_code == 404
    assert as_a.patch(detail, {"title": "x"}, format="json").status_code == 404
    assert as_a.post(f"{detail}complete/", {"outcome": "x"}, format="json").status_code == 404
    assert as_a.post(f"{detail}skip/", {"reason": "x"}, format="json").status_code == 404
    others_action.refresh_from_db()
    assert others_action.status == ActionStatus.PLANNED


def test_filters_by_status_owner_client_and_due_range(as_a, manager_a, engagement, a_client):
    today = timezone.localdate()
    late = EducationActionFactory(engagement=engagement, due_date=today - timedelta(days=2))
    soon = EducationActionFactory(engagement=engagement, due_date=today + timedelta(days=3))
    done = EducationActionFactory(engagement=engagement, due_date=today + timedelta(days=30))
    services.action_complete(action=done, by=manager_a, outcome="ok")

    def ids(query):
        response = as_a.get(URL + query)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("?status=overdue") == {late.pk}
    assert ids("?status=done") == {done.pk}
    assert ids(f"?due_after={today}&due_before={today + timedelta(days=7)}") == {soon.pk}
    assert ids(f"?owner={manager_a.pk}&client={a_client.pk}") == {late.pk, soon.pk, done.pk}


def test_filtering_by_another_managers_client_is_refused_like_an_unknown_id(as_a, b_client):
    response = as_a.get(f"{URL}?client={b_client.pk}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "client"


def test_a_bad_date_filter_is_a_clear_400(as_a):
    response = as_a.get(f"{URL}?due_after=next-tuesday")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_the_list_query_count_is_the_same_for_5_and_50_actions(as_a, engagement, count_queries):
    def count(n):
        EducationAction.objects.all().delete()
        EducationActionFactory.create_batch(n, engagement=engagement)
        with count_queries() as queries:
            response = as_a.get(URL + "?page_size=100")
        assert len(response.json()["results"]) == n
        return queries.count

    assert count(5) == count(50)


def test_creating_an_action_through_the_api(as_a, engagement, manager_a):
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = as_a.post(
        URL,
        {
            "engagement": engagement.pk,
            "action_type": "site_visit",
            "title": "Visit the Recife floor",
            "due_date": due,
            "audience": ["Operations"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == manager_a.pk
    assert body["client"] == engagement.client_id
    assert body["status"] == "planned"


def test_creating_on_another_managers_engagement_fails_like_an_unknown_id(as_a, b_client):
    response = as_a.post(
        URL,
        {
            "engagement": EngagementFactory(client=b_client).pk,
            "action_type": "workshop",
            "title": "x",
            "due_date": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "engagement"


def test_each_bad_field_is_named(as_a, engagement):
    response = as_a.post(
        URL,
        {
            "engagement": engagement.pk,
            "action_type": "party",
            "title": "",
            "due_date": "2001-01-01",
        },
        format="json",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"action_type", "title"} <= fields


def test_rescheduling_to_the_past_is_a_400_on_due_date(as_a, action):
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = as_a.patch(f"{URL}{action.pk}/", {"due_date": past}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "due_date"


def test_reassigning_through_the_api_tells_the_new_owner(as_a, action, manager_b, engagement):
    engagement.client.team_members.add(manager_b)
    response = as_a.patch(f"{URL}{action.pk}/", {"owner": manager_b.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert Notification.objects.get(kind=NotificationKind.ASSIGNED).recipient == manager_b


def test_complete_needs_an_outcome_and_then_closes_the_action(as_a, action):
    assert as_a.post(f"{URL}{action.pk}/complete/", {}, format="json").status_code == 400
    response = as_a.post(
        f"{URL}{action.pk}/complete/", {"outcome": "Held with eight people."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "done"
    again = as_a.post(f"{URL}{action.pk}/complete/", {"outcome": "again"}, format="json")
    assert again.status_code == 400


def test_a_read_only_token_cannot_complete(api, manager_a, action):
    from api.services import api_token_issue

    _token, raw = api_token_issue(user=manager_a, name="bi", read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(URL).status_code == 200
    response = api.post(f"{URL}{action.pk}/complete/", {"outcome": "x"}, format="json")
    assert response.status_code == 403


def test_playbooks_are_readable_with_templates_and_rules(as_a):
    body = as_a.get("/api/v1/playbooks/").json()["results"]
    default = next(p for p in body if p["code"] == "bpo-default")
    assert default["questionnaire"] == "bpo-client-maturity"
    assert {t["code"] for t in default["templates"]} >= {"site-visit", "orienting-close"}
    assert any(r["kind"] == "weak_dimension" for r in default["rules"])
    assert as_a.post("/api/v1/playbooks/", {}, format="json").status_code == 405


def remind(user, key: str) -> None:
    """An unread reminder for ``user``, under the idempotency ``key``."""
    services.notifications_write(
        [
            services.notification_for(
                recipient=user,
                kind="reminder",
                key=key,
                params={"title": "T", "client": "C", "due_date": "2026-12-05"},
            )
        ]
    )


def test_notifications_are_the_callers_own_with_an_unread_count(as_a, manager_a, manager_b):
    for user, key in ((manager_a, "a1"), (manager_a, "a2"), (manager_b, "b1")):
        remind(user, key)
    rows = as_a.get("/api/v1/notifications/").json()["results"]
    assert len(rows) == 2
    assert rows[0]["title"].startswith("Due ")
    assert as_a.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    first = rows[0]["id"]
    response = as_a.post("/api/v1/notifications/read/", {"ids": [first]}, format="json")
    assert response.json() == {"unread": 1}
    theirs = Notification.objects.get(idempotency_key="b1")
    as_a.post("/api/v1/notifications/read/", {"ids": [theirs.pk]}, format="json")
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert as_a.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404


def multipart(*parts: bytes) -> tuple[bytes, str]:
    return b"".join(parts) + b"--BB--\r\n", "multipart/form-data; boundary=BB"


EMPTY_IDS_PART = b'--BB\r\nContent-Disposition: form-data; name="ids"\r\n\r\n'


@pytest.mark.parametrize(
    ("parts", "status", "unread"),
    [
        # An empty part with no line break before the next boundary (as some clients
        # encode one): Django's parser drops it, and the call read as "mark them all".
        ((EMPTY_IDS_PART,), 400, 2),
        # The same after a part that is read: the call is not one that sent no ids.
        (
            (b'--BB\r\nContent-Disposition: form-data; name="note"\r\n\r\n{}\r\n', EMPTY_IDS_PART),
            400,
            2,
        ),
        # The same part well-formed: an empty id is refused by the serializer.
        ((EMPTY_IDS_PART + b"\r\n",), 400, 2),
        # No part at all: nothing sent, so all of them (the API's documented default).
        ((), 200, 0),
        # Well-formed parts, an empty file input among them (read as an empty value).
        (
            (
                b'--BB\r\nContent-Disposition: form-data; name="file"; filename=""\r\n\r\n\r\n',
                b'--BB\r\nContent-Disposition: form-data; name="note"\r\n\r\nnot --BB\r\n',
            ),
            200,
            0,
        ),
    ],
)
def test_a_multipart_body_whose_parts_cannot_be_read_marks_nothing(
    as_a, manager_a, parts, status, unread
):
    for key in ("a1", "a2"):
        remind(manager_a, key)
    body, content_type = multipart(*parts)
    answer = as_a.generic("POST", "/api/v1/notifications/read/", body, content_type=content_type)
    assert answer.status_code == status, answer.content
    if status == 400:
        assert answer.json()["type"] in ("parse_error", "validation_error")
    assert Notification.objects.filter(recipient=manager_a, read_at__isnull=True).count() == unread
