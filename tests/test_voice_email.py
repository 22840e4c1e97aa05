"""A client's stakeholder gets their link by e-mail through the notification machinery
(the outbox, the relay, the e-mail channel), and one reminder before the round closes.
The link in the e-mail is written again from the invitation: the database keeps no
secret that opens it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from education import services as education
from education.models import Delivery, DeliveryState, Notification, NotificationKind
from tests.factories import EngagementFactory, StakeholderFactory
from voice.models import Invitation
from voice.services import (
    invitation_create,
    invitation_finish,
    invitation_for_link,
    invitation_resend,
    invitation_revoke,
    invitations_remind,
    round_close,
    round_open,
)

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/r/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://testserver"
    settings.SUPPLIER_NAME = "Contact Pro"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def round_(a_client, manager_a):
    engagement = EngagementFactory(client=a_client)
    return round_open(
        engagement=engagement, by=manager_a, closes_on=timezone.localdate() + timedelta(days=10)
    )


@pytest.fixture
def ana(a_client):
    return StakeholderFactory(client=a_client, name="Ana Souza", email="ana@aurora.example")


def invite(round_, stakeholder, by, language="pt-br"):
    invitation, _secret = invitation_create(
        round=round_, stakeholder=stakeholder, language=language, by=by
    )
    return invitation


def link_in(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def test_the_invitation_is_emailed_in_its_language_with_a_link_that_opens_it(
    round_, ana, manager_a
):
    invitation = invite(round_, ana, manager_a)
    notification = Notification.objects.get(invitation=invitation)
    assert notification.recipient is None
    assert notification.kind == NotificationKind.CLIENT_INVITATION
    assert notification.params == {}  # the address and name stay on the stakeholder
    assert [d.channel for d in notification.deliveries.all()] == ["email"]

    assert education.notifications_relay().sent == 1
    [message] = mail.outbox
    assert message.to == ["ana@aurora.example"]
    assert message.subject.startswith("[Contact Pro] Sua visão")
    assert "Olá, Ana Souza" in message.body
    assert "16 perguntas" in message.body
    assert invitation_for_link(link_in(message)) == invitation
    assert message.extra_headers["Message-ID"].startswith(f"<{notification.idempotency_key}@")
    delivery = notification.deliveries.get()
    assert delivery.state == DeliveryState.SENT
    # The row keeps neither the secret nor anything that opens the link without the key.
    assert link_in(message) not in {invitation.nonce, invitation.token_digest}


def test_a_resent_link_is_a_new_email_and_the_old_link_stops(round_, ana, manager_a):
    invitation = invite(round_, ana, manager_a)
    education.notifications_relay()
    first = link_in(mail.outbox[0])

    invitation_revoke(invitation=invitation, by=manager_a)
    invitation_resend(invitation=invitation, by=manager_a, language="es")
    assert education.notifications_relay().sent == 1
    second = link_in(mail.outbox[1])
    assert mail.outbox[1].subject.startswith("[Contact Pro] Su visión")
    assert invitation_for_link(first) is None
    assert invitation_for_link(second) == invitation  # resending also restores a revoked one
    assert Notification.objects.filter(invitation=invitation).count() == 2


def test_a_changed_secret_key_gives_the_next_email_a_working_link(round_, ana, manager_a, settings):
    invitation = invite(round_, ana, manager_a)
    old_digest = invitation.token_digest
    settings.SECRET_KEY = "another-key-after-a-rotation-0123456789-abcdefghijklmnop"
    education.notifications_relay()
    link = link_in(mail.outbox[0])
    assert invitation_for_link(link) == invitation
    invitation.refresh_from_db()
    assert invitation.token_digest != old_digest


def test_a_stakeholder_whose_email_was_erased_is_not_written_to(round_, ana, manager_a):
    invite(round_, ana, manager_a)
    ana.email = ""
    ana.save()
    report = education.notifications_relay()
    assert (report.sent, report.failed) == (0, 1)
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING  # retried with backoff, then given up
    assert "no e-mail address" in delivery.last_error
    assert mail.outbox == []


def test_invitation_emails_are_written_alike_by_the_set_statement_and_the_orm(
    round_, ana, manager_a, a_client
):
    from education.services.notifications import notices_write, notification_to_stakeholder

    bia = StakeholderFactory(client=a_client, email="bia@aurora.example")
    invitations = [invite(round_, person, manager_a) for person in (ana, bia)]
    Notification.objects.all().delete()
    now = timezone.now()
    for set_based, invitation in zip((True, False), invitations, strict=True):
        notice = notification_to_stakeholder(
            invitation=invitation,
            email=invitation.stakeholder.email,
            kind=NotificationKind.CLIENT_INVITATION,
            key=f"k{invitation.pk}",
        )
        notices_write([notice, notice], now, set_based=set_based)
    rows = list(
        Notification.objects.order_by("id").values_list(
            "recipient", "invitation", "kind", "deliveries__channel"
        )
    )
    assert rows == [
        (None, invitations[0].pk, "client_invitation", "email"),
        (None, invitations[1].pk, "client_invitation", "email"),
    ]


def test_erasing_the_stakeholder_takes_their_emails(round_, ana, manager_a):
    invite(round_, ana, manager_a)
    ana.delete()
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


# --- Reminders ---------------------------------------------------------------------------


def test_one_reminder_before_the_round_closes_to_those_yet_to_finish(
    round_, ana, manager_a, a_client, settings
):
    settings.CLIENT_SURVEY_REMINDER_DAYS = 3
    people = {
        name: StakeholderFactory(client=a_client, name=name, email=f"{name}@aurora.example")
        for name in ("waiting", "finished", "revoked", "fresh")
    }
    invitations = {
        name: invite(round_, person, manager_a, language="es") for name, person in people.items()
    }
    invitation_finish(invitation=invitations["finished"])
    invitation_revoke(invitation=invitations["revoked"], by=manager_a)
    closes = invitations["waiting"].expires_at
    two_days_before = closes - timedelta(days=2)
    Invitation.objects.exclude(pk=invitations["fresh"].pk).update(
        created_at=two_days_before - timedelta(days=5)
    )
    Invitation.objects.filter(pk=invitations["fresh"].pk).update(
        created_at=two_days_before - timedelta(hours=3)
    )
    education.notifications_relay()
    mail.outbox.clear()

    assert invitations_remind(now=closes - timedelta(days=4)) == 0  # not yet in the window
    assert invitations_remind(now=two_days_before) == 1
    assert invitations_remind(now=two_days_before + timedelta(hours=1)) == 0  # once
    education.notifications_relay(now=two_days_before)
    [message] = mail.outbox
    assert message.to == ["waiting@aurora.example"]
    assert message.subject.startswith("[Contact Pro] Recordatorio")
    assert invitation_for_link(link_in(message)) == invitations["waiting"]  # the same link


def test_a_closed_round_reminds_nobody(round_, ana, manager_a):
    invitation = invite(round_, ana, manager_a)
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=20))
    round_close(round=round_, by=manager_a)
    assert invitations_remind(now=invitation.expires_at - timedelta(days=1)) == 0


def test_the_dispatchers_pass_reminds(round_, ana, manager_a):
    invitation = invite(round_, ana, manager_a)
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=20))
    report = education.dispatch(now=invitation.expires_at - timedelta(days=1))
    assert report.client_reminders == 1
    assert Notification.objects.filter(kind=NotificationKind.CLIENT_REMINDER).count() == 1
