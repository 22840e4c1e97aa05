"""Every event type is recorded by its cause, carrying the documented fields; the receiver's
guide (docs/integrations.md) documents each type with the same fields, and its receiver,
run as written, verifies and deduplicates what the relay sends."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.utils import timezone

from assessments.services import assessment_review
from clients import services as clients_services
from clients.models import Phase
from education import services as education_services
from education.models import EducationAction, EducationPlan
from tests.factories import (
    DirectorFactory,
    EducationActionFactory,
    EngagementFactory,
    clients_created,
    submitted_assessment,
)
from webhooks import services as webhooks_services
from webhooks.events import EVENT_TYPES
from webhooks.models import Event
from webhooks.relay import body_of, signed_headers

pytestmark = pytest.mark.django_db

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "integrations.md"


def data_of(type: str) -> list[dict]:
    return [e.payload["data"] for e in Event.objects.filter(type=type).order_by("created_at")]


def test_each_cause_records_its_event_with_the_documented_fields(manager_a, a_client):
    director = DirectorFactory()
    # Clients and engagements.
    clients_created(manager_a, "Nova Cobrança")
    clients_services.client_update(client=a_client, by=manager_a, notes="Met the sponsor.")
    clients_services.client_archive(client=a_client, by=manager_a)
    clients_services.client_restore(client=a_client, by=manager_a)
    engagement = EngagementFactory(client=a_client, phase=Phase.TRANSITION)
    clients_services.engagement_update(engagement=engagement, by=manager_a, phase=Phase.OPERATION)
    # Assessments: submitted (its plan built: actions created), returned, then approved.
    assessment = submitted_assessment(engagement, level=1)
    plan = EducationPlan.objects.get(assessment=assessment)
    education_services.plan_build(plan_id=plan.pk)
    assessment_review(assessment=assessment, by=director, approve=False, comment="Check it.")
    # Education: an action by hand, completed; another overdue, then escalated.
    action = education_services.action_create(
        engagement=engagement, by=manager_a, action_type="workshop", title="Kick-off",
        due_date=timezone.localdate() + timedelta(days=7),
    )  # fmt: skip
    education_services.action_complete(action=action, by=manager_a, outcome="Held.")
    late = EducationActionFactory(engagement=engagement, title="Late one")
    education_services.reschedule(late)
    late.save()
    education_services.dispatch_actions(now=timezone.now() + timedelta(days=5))

    for event in Event.objects.all():
        assert set(event.payload["data"]) == set(EVENT_TYPES[event.type].fields), event.type
        assert event.payload["version"] == EVENT_TYPES[event.type].version
    seen = set(Event.objects.values_list("type", flat=True))
    # The approval's below; the client's voice has its own (tests/test_voice_*.py).
    assert seen == set(EVENT_TYPES) - {
        "assessment.approved",
        "client_response.received",
        "round.reconciled",
    }

    assert data_of("client.created")[0]["name"] == "Nova Cobrança"
    (updated, restored) = data_of("client.updated")
    assert updated["client"] == a_client.pk
    assert restored["archived"] is False
    assert data_of("client.archived")[0]["archived"] is True
    (moved,) = data_of("engagement.phase_changed")
    assert (moved["previous_phase"], moved["phase"]) == (Phase.TRANSITION, Phase.OPERATION)
    (submitted,) = data_of("assessment.submitted")
    assert submitted["assessment"] == assessment.pk
    assert submitted["client"] == a_client.pk
    assert submitted["maturity"] == pytest.approx(assessment.maturity_score)
    assert data_of("assessment.returned")[0]["status"] == "returned"
    created = {d["action"] for d in data_of("education_action.created")}
    planned = set(plan.actions.values_list("pk", flat=True))
    assert planned
    assert created == planned | {action.pk}
    (completed,) = data_of("education_action.completed")
    assert (completed["action"], completed["status"]) == (action.pk, "done")
    assert completed["completed_at"] is not None
    assert [d["action"] for d in data_of("education_action.overdue")] == [late.pk]
    assert [d["action"] for d in data_of("education_action.escalated")] == [late.pk]


def test_an_approval_records_its_event(manager_a, a_client):
    assessment = submitted_assessment(EngagementFactory(client=a_client))
    assessment_review(assessment=assessment, by=DirectorFactory(), approve=True)
    (approved,) = data_of("assessment.approved")
    assert approved["status"] == "approved"
    assert approved["reviewed_at"] is not None


def test_the_next_occurrence_of_a_recurring_action_is_a_created_event(manager_a, a_client):
    action = EducationActionFactory(
        engagement=EngagementFactory(client=a_client), every_weeks=1, title="Weekly call"
    )
    education_services.reschedule(action)
    action.save()
    education_services.dispatch_actions(now=timezone.now() + timedelta(days=1))
    spawned = EducationAction.objects.exclude(pk=action.pk).get()
    assert [d["action"] for d in data_of("education_action.created")] == [spawned.pk]
    assert data_of("education_action.created")[0]["title"] == "Weekly call"


def test_the_receivers_guide_documents_every_event_with_its_fields():
    guide = GUIDE.read_text()
    for kind in EVENT_TYPES.values():
        section = re.search(rf"^### `{re.escape(kind.name)}`.*?(?=^### |\Z)", guide, re.M | re.S)
        assert section, f"docs/integrations.md has no section for {kind.name}"
        documented = set(re.findall(r"^\| `(\w+)` \|", section.group(0), re.M))
        assert documented == set(kind.fields), kind.name


def test_the_guides_receiver_run_as_written_verifies_and_deduplicates(manager_a):
    """The guide's Python, executed: the secret put in, and the two names it leaves to the
    reader (a table of handled ids, the handling) given here."""
    code = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert code, "docs/integrations.md has no Python receiver"
    endpoint = webhooks_services.endpoint_create(
        url="https://example.com/hook", event_types=["client.created"], by=DirectorFactory()
    )
    clients_created(manager_a, "Nova Cobrança")
    event = Event.objects.get(type="client.created")
    body = body_of(event)
    headers = signed_headers(endpoint, event, body, timezone.now())
    processed: set[str] = set()
    handled: list[tuple[str, dict]] = []

    def already(webhook_id: str) -> SimpleNamespace:
        return SimpleNamespace(exists=lambda: webhook_id in processed)

    namespace = {
        "ProcessedEvent": SimpleNamespace(objects=SimpleNamespace(filter=already)),
        "handle": lambda kind, data: handled.append((kind, data)),
    }
    assert '"whsec_…"' in code.group(1)
    exec(code.group(1).replace('"whsec_…"', repr(endpoint.secret)), namespace)
    receive = namespace["receive"]

    def delivered(payload: bytes):
        request = RequestFactory().post(
            "/hooks/maturity", data=payload, content_type="application/json", headers=headers
        )
        return receive(request)

    assert delivered(body).status_code == 204
    assert handled == [("client.created", event.payload["data"])]
    assert handled[0][1]["name"] == "Nova Cobrança"
    processed.add(headers["webhook-id"])
    assert delivered(body).status_code == 200  # the same event again: not handled twice
    assert len(handled) == 1
    assert delivered(body.replace(b"Nova", b"Nada")).status_code == 400
    assert len(handled) == 1
