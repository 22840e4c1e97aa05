"""The portfolio tests/test_api_fuzz.py runs on: the demo seed (clients with engagements,
stakeholders, past experiences, timelines, assessments, education actions, client-voice
rounds and invitations) and a webhook endpoint with a delivery, with an API token for the
demo director and manager — and, for each role, the id of one row of every kind the API
names in a path, found through the API itself, so each is a row that role may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from api.services import api_token_issue
from clients.models import Engagement
from tests.factories import StakeholderFactory
from voice.models import Round
from voice.reconciliation import rater_add
from voice.services import client_answer_save, client_questions, invitation_create, round_open
from web.demo import seed_demo
from webhooks import services as webhooks

ROLES = {"director": "director", "manager": "manager"}  # role → demo username

# Each resource the API names in a path (``/api/v1/<resource>/{id}/``), found in its list;
# and a webhook endpoint's deliveries (``…/deliveries/{delivery_pk}/…``), which have none.
LISTED = (
    "assessments", "client-responses", "clients", "education-actions", "engagements",
    "invitations", "notifications", "past-experiences", "playbooks", "questionnaire-versions",
    "questionnaires", "raters", "rounds", "stakeholders", "timeline-entries",
    "webhook-endpoints",
)  # fmt: skip
RESOURCES = (*LISTED, "deliveries")


def _first_id(api: APIClient, path: str) -> int | None:
    response = api.get(path)
    if response.status_code != 200:
        return None
    body = response.json()
    items = body["results"] if isinstance(body, dict) else body
    if not items:
        return None
    return items[0]["invitation"] if path.endswith("client-responses/") else items[0]["id"]


def _answered_round(manager: User) -> Round:
    """An open round on one of ``manager``'s engagements with an answered invitation: the
    demo seed opens rounds on a share of engagements chosen by their ids, which differ
    from run to run, so one is made here when it made none."""
    found = Round.objects.filter(
        engagement__client__owner=manager,
        closed_at__isnull=True,
        invitations__answers__isnull=False,
    ).first()
    if found is not None:
        return found
    open_round = Round.objects.filter(engagement=OuterRef("pk"), closed_at__isnull=True)
    engagement = (
        Engagement.objects.filter(client__owner=manager).exclude(Exists(open_round)).first()
    )
    assert engagement is not None
    opened = round_open(
        engagement=engagement, by=manager, closes_on=timezone.localdate() + timedelta(days=9)
    )
    person = StakeholderFactory(client=engagement.client, email="ana@cliente.example")
    invitation, _secret = invitation_create(
        round=opened, stakeholder=person, language="pt-br", by=manager
    )
    question = client_questions(opened.version)[0]
    client_answer_save(invitation=invitation, question_id=question.pk, value=4, revision=None)
    return opened


def seed() -> dict[str, Any]:
    seed_demo(clients=3)
    users = {role: User.objects.get(username=name) for role, name in ROLES.items()}
    endpoint = webhooks.endpoint_create(
        url="https://hooks.example.com/maturity",
        event_types=["client.created"],
        by=users["director"],
    )
    delivery = webhooks.endpoint_test(endpoint=endpoint, by=users["director"])
    round_ = _answered_round(users["manager"])
    # A second internal rater (the demo seed adds none).
    rater_add(round=round_, user=users["director"], by=users["manager"])
    tokens: dict[str, str] = {}
    rows: dict[str, dict[str, int]] = {}
    for role, user in users.items():
        _token, tokens[role] = api_token_issue(user=user, name="fuzz")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[role]}")
        found = {resource: _first_id(api, f"/api/v1/{resource}/") for resource in LISTED}
        if found["webhook-endpoints"] is not None:
            found["deliveries"] = delivery.pk  # (the endpoint's log lists attempts)
        rows[role] = {resource: pk for resource, pk in found.items() if pk is not None}
    return {"tokens": tokens, "rows": rows}
