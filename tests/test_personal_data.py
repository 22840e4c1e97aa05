"""Personal data: a director exports what is held about a stakeholder or a user, erases a
stakeholder (after which their name is nowhere in the database), and the nightly purge
deletes what outlived its retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent, SecurityEventKind, Session
from assessments.models import Answer
from assessments.services import assessment_start
from clients.models import Stakeholder, TimelineEntry
from core.privacy import purge_expired
from education.models import EducationAction, Notification, NotificationKind
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EducationActionFactory,
    EngagementFactory,
    StakeholderFactory,
    TimelineEntryFactory,
    published_default_version,
)
from webhooks.models import Event

pytestmark = pytest.mark.django_db

NAME = "Joana Prado Villalobos"
EMAIL = "joana.prado@cliente.example"


@pytest.fixture
def joana(manager_a, a_client):
    """A stakeholder the team wrote about in several places."""
    stakeholder = StakeholderFactory(
        client=a_client, name=NAME, email=EMAIL, phone="+55 11 99876-5432", notes="Sponsor."
    )
    TimelineEntryFactory(
        client=a_client,
        title=f"Call with {NAME}",
        body=f"{NAME} asked for the SLA report; write to {EMAIL}. Banana bread at the café.",
    )
    TimelineEntryFactory(client=a_client, title="Quarterly review", body="Nobody named here.")
    engagement = EngagementFactory(client=a_client)
    version = published_default_version()
    assessment, _ = assessment_start(engagement=engagement, by=manager_a, version=version)
    question = version.questions.order_by("pk").first()
    Answer.objects.create(
        assessment=assessment,
        question=question,
        value=None,
        note=f"Evidence from joana prado villalobos's e-mail ({EMAIL}).",
        updated_by=manager_a,
        updated_at=timezone.now(),
    )
    action = EducationActionFactory(engagement=engagement, title=f"Workshop with {NAME}")
    Notification.objects.create(
        recipient=manager_a,
        kind=NotificationKind.REMINDER,
        idempotency_key=f"test-{action.pk}",
        action=action,
        params={"title": action.title, "client": a_client.name},
    )
    StakeholderFactory(client=ClientFactory(), name=NAME)  # a namesake at another client
    return stakeholder


def places_naming(text: str) -> list[str]:
    """Every table.column of the whole database whose value contains ``text``."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = 'public'
                 AND data_type IN ('text', 'character varying', 'jsonb', 'json')"""
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                [f"%{text}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def export_url(stakeholder) -> str:
    return reverse("clients:stakeholder_data_export", args=[stakeholder.client_id, stakeholder.pk])


def erase_url(stakeholder) -> str:
    return reverse("clients:stakeholder_data_erase", args=[stakeholder.client_id, stakeholder.pk])


def test_the_export_holds_the_stakeholder_and_every_note_that_mentions_them(client, joana):
    director = DirectorFactory()
    client.force_login(director)
    response = client.get(export_url(joana))
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["stakeholder"]["name"] == NAME
    assert data["stakeholder"]["email"] == EMAIL
    assert [row["title"] for row in data["mentions"]["timeline"]] == [f"Call with {NAME}"]
    assert EMAIL in data["mentions"]["answers"][0]["note"]
    assert data["mentions"]["education_actions"][0]["title"] == f"Workshop with {NAME}"
    assert data["mentions"]["notifications"][0]["params"]["title"] == f"Workshop with {NAME}"
    event = SecurityEvent.objects.get(kind=SecurityEventKind.EXPORT)
    assert event.detail["stakeholder"] == joana.pk


def test_after_erasure_the_name_is_nowhere_in_the_database(client, joana):
    director = DirectorFactory()
    client.force_login(director)
    assert "clients_timelineentry.body" in places_naming(NAME)
    response = client.post(erase_url(joana))
    assert response.status_code == 302
    # The namesake at another client is another person: kept.
    assert places_naming(NAME) == ["clients_stakeholder.name"]
    assert Stakeholder.objects.filter(name=NAME).exclude(client=joana.client).count() == 1
    assert places_naming(EMAIL) == []
    assert places_naming("99876-5432") == []
    joana.refresh_from_db()
    assert (joana.name, joana.email, joana.phone, joana.notes) == ("[erased]", "", "", "")
    assert joana.influence  # what describes the relationship stays
    entry = TimelineEntry.objects.get(title="Call with [erased]")
    assert "Banana bread" in entry.body  # only the person is taken out
    assert TimelineEntry.objects.filter(body="Nobody named here.").exists()
    assert EducationAction.objects.filter(title="Workshop with [erased]").exists()
    erasure = SecurityEvent.objects.get(kind=SecurityEventKind.ERASURE)
    assert erasure.user == director
    assert erasure.detail == {
        "stakeholder": joana.pk,
        "client": joana.client_id,
        "rows_redacted": 4,
    }


def test_only_directors_export_or_erase_and_only_what_they_may_see(
    client, joana, manager_a, manager_b
):
    client.force_login(manager_a)  # the client's own manager: not a director
    assert client.get(export_url(joana)).status_code == 403
    assert client.post(erase_url(joana)).status_code == 403
    other = StakeholderFactory(client=ClientFactory(owner=manager_b))
    client.force_login(DirectorFactory())
    wrong_client = reverse("clients:stakeholder_data_export", args=[joana.client_id, other.pk])
    assert client.get(wrong_client).status_code == 404
    joana.refresh_from_db()
    assert joana.name == NAME


def test_the_client_page_offers_it_to_directors_only(client, joana, manager_a):
    page = reverse("clients:detail", args=[joana.client_id])
    client.force_login(manager_a)
    assert export_url(joana) not in client.get(page).content.decode()
    client.force_login(DirectorFactory())
    assert export_url(joana) in client.get(page).content.decode()


def test_a_user_export_holds_their_account_events_notifications_and_tokens(
    client, joana, manager_a
):
    from api.services import api_token_issue

    api_token_issue(user=manager_a, name="crm")
    client.force_login(DirectorFactory())
    response = client.get(reverse("accounts:user_data_export", args=[manager_a.pk]))
    data = json.loads(response.content)
    assert data["user"]["username"] == manager_a.username
    assert "password" not in data["user"]
    assert [t["name"] for t in data["api_tokens"]] == ["crm"]
    assert [e["kind"] for e in data["security_events"]] == ["token_issued"]
    assert data["notifications_received"][0]["params"]["title"] == f"Workshop with {NAME}"
    assert {c["id"] for c in data["clients_owned"]} == {joana.client_id}
    client.force_login(AccountManagerFactory())
    assert client.get(reverse("accounts:user_data_export", args=[manager_a.pk])).status_code == 403


def test_the_nightly_purge_deletes_what_outlived_its_retention(settings, manager_a):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    settings.SECURITY_LOG_RETENTION_DAYS = 90
    now = timezone.now()

    def notification(key, *, days_old, read):
        made = Notification.objects.create(
            recipient=manager_a, kind=NotificationKind.REMINDER, idempotency_key=key
        )
        Notification.objects.filter(pk=made.pk).update(
            created_at=now - timedelta(days=days_old), read_at=now if read else None
        )

    notification("old-read", days_old=31, read=True)
    notification("old-unread", days_old=31, read=False)
    notification("new-read", days_old=29, read=True)
    SecurityEvent.objects.create(kind="login", at=now - timedelta(days=91))
    SecurityEvent.objects.create(kind="login", at=now - timedelta(days=89))
    settings.WEBHOOK_RETENTION_DAYS = 30
    for days_old in (31, 29):
        Event.objects.create(
            type="client.created", payload={}, created_at=now - timedelta(days=days_old)
        )
    settings.EXPIRED_SESSION_DAYS = 1
    for key, expired_days_ago in (("expired-two-days-ago", 2), ("expired-an-hour-ago", 1 / 24)):
        Session.objects.create(
            session_key=key,
            session_data="",
            user=manager_a,
            expire_date=now - timedelta(days=expired_days_ago),
        )
    assert purge_expired(now) == {
        "read_notifications": 1,
        "security_events": 1,
        "expired_sessions": 1,
        "webhook_events": 1,
        "idempotency_keys": 0,
    }
    assert list(Session.objects.values_list("pk", flat=True)) == ["expired-an-hour-ago"]
    assert Event.objects.get().created_at == now - timedelta(days=29)
    assert set(Notification.objects.values_list("idempotency_key", flat=True)) == {
        "old-unread",
        "new-read",
    }
    assert SecurityEvent.objects.count() == 1
    settings.SECURITY_LOG_RETENTION_DAYS = 0  # kept for ever
    SecurityEvent.objects.create(kind="login", at=now - timedelta(days=4000))
    assert purge_expired(now) == {
        "read_notifications": 0,
        "expired_sessions": 0,
        "webhook_events": 0,
        "idempotency_keys": 0,
    }


def test_the_purge_runs_every_night():
    from maturity.celery import app

    entry = app.conf.beat_schedule["core.purge_expired_personal_data"]
    assert entry["task"] == "core.tasks.purge_expired_personal_data"
    assert entry["schedule"].hour == {3}


def test_a_stakeholders_survey_invitations_answers_and_emails_are_theirs_to_export_and_erase(
    client, joana, manager_a, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from voice.services import client_answer_save, client_questions, invitation_create, round_open

    engagement = joana.client.engagements.first()
    round_ = round_open(
        engagement=engagement, by=manager_a, closes_on=timezone.localdate() + timedelta(days=9)
    )
    invitation, _ = invitation_create(
        round=round_, stakeholder=joana, language="pt-br", by=manager_a
    )
    question = client_questions(round_.version)[0]
    client_answer_save(invitation=invitation, question_id=question.pk, value=4, revision=None)
    client.force_login(DirectorFactory())
    held = json.loads(client.get(export_url(joana)).content)["held"]
    assert [row["id"] for row in held["client_voice.invitations"]] == [invitation.pk]
    assert held["client_voice.answers"] == [
        {
            "invitation_id": invitation.pk,
            "question__code": question.code,
            "value": 4,
            "updated_at": held["client_voice.answers"][0]["updated_at"],
        }
    ]
    assert [row["invitation_id"] for row in held["client_voice.emails"]] == [invitation.pk]
    assert client.post(erase_url(joana)).status_code == 302
    assert places_naming(NAME) == ["clients_stakeholder.name"]  # the namesake elsewhere
    assert places_naming(EMAIL) == []
