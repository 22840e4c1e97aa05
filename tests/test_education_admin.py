"""The education admin shows every row; its actions go through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from education.models import Delivery, DeliveryState, EducationPlan, Notification
from education.services import notification_for, notifications_write
from tests.factories import AdministratorFactory, EngagementFactory, submitted_assessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = AdministratorFactory(is_superuser=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "playbook",
        "actiontemplate",
        "educationplan",
        "educationaction",
        "notification",
        "reassessmentschedule",
    ],
)
def test_every_education_list_opens(admin_client, model):
    assert admin_client.get(reverse(f"admin:education_{model}_changelist")).status_code == 200


def test_rebuilding_a_plan_from_the_admin_duplicates_nothing(admin_client, a_client):
    assessment = submitted_assessment(EngagementFactory(client=a_client), level=1)
    plan = EducationPlan.objects.get(assessment=assessment)
    from education.services import plan_build

    plan_build(plan_id=plan.pk)
    before = plan.actions.count()
    admin_client.post(
        reverse("admin:education_educationplan_changelist"),
        {"action": "rebuild", "_selected_action": [plan.pk]},
    )
    plan.refresh_from_db()
    assert plan.status == "pending"
    plan_build(plan_id=plan.pk)
    assert plan.actions.count() == before


def test_failed_emails_can_be_queued_again(admin_client, manager_a):
    notifications_write([notification_for(recipient=manager_a, kind="digest", key="k")])
    Delivery.objects.update(state=DeliveryState.FAILED, attempts=8)
    admin_client.post(
        reverse("admin:education_notification_changelist"),
        {
            "action": "retry_deliveries",
            "_selected_action": list(Notification.objects.values_list("pk", flat=True)),
        },
    )
    email = Delivery.objects.get(channel="email")
    assert email.state == DeliveryState.PENDING
    assert email.attempts == 0


def test_a_failed_delivery_can_be_queued_again_on_its_own(admin_client, manager_a):
    notifications_write([notification_for(recipient=manager_a, kind="digest", key="k")])
    Delivery.objects.update(state=DeliveryState.FAILED, attempts=8, last_error="refused")
    response = admin_client.post(
        reverse("admin:education_delivery_changelist"),
        {
            "action": "retry",
            "_selected_action": list(Delivery.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assert "1 delivery queued again." in response.content.decode()
    email = Delivery.objects.get()
    assert (email.state, email.attempts, email.last_error) == (DeliveryState.PENDING, 0, "")
    page = admin_client.get(
        reverse("admin:education_notification_change", args=[email.notification_id])
    )
    assert page.status_code == 200
    assert "email" in page.content.decode()
