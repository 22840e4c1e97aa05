"""The client's voice in the services: rounds, invitations whose link is a secret stored
only as its digest, and a respondent's answers checked against what they read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessments.selectors import questions_by_id
from tests.factories import (
    EngagementFactory,
    StakeholderFactory,
    published_default_version,
)
from tests.questionnaire_documents import small_document
from voice.models import ClientAnswer, Invitation
from voice.services import (
    StaleClientAnswer,
    client_answer_save,
    client_questions,
    invitation_create,
    invitation_finish,
    invitation_for_link,
    invitation_resend,
    invitation_revoke,
    link_digest,
    round_close,
    round_open,
)

pytestmark = pytest.mark.django_db


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client)


@pytest.fixture
def round_(engagement, manager_a):
    return round_open(engagement=engagement, by=manager_a, closes_on=in_days(14))


@pytest.fixture
def ana(a_client):
    return StakeholderFactory(client=a_client, name="Ana Souza", email="ana@aurora.example")


@pytest.fixture
def invited(round_, ana, manager_a):
    return invitation_create(round=round_, stakeholder=ana, language="pt-br", by=manager_a)


def test_a_round_asks_the_client_the_questions_with_client_wording(round_):
    asked = client_questions(round_.version)
    assert round_.version == published_default_version()
    assert [q.code for q in asked][:2] == ["pk-1", "pk-3"]
    assert all(q.asked_of_the_client for q in asked)
    assert len(asked) == sum(1 for q in questions_by_id(round_.version).values() if q.client)


def test_one_open_round_per_engagement_and_a_closing_day_after_today(round_, manager_a):
    with pytest.raises(ValidationError, match="already has an open round"):
        round_open(engagement=round_.engagement, by=manager_a, closes_on=in_days(7))
    with pytest.raises(ValidationError) as refused:
        round_open(engagement=EngagementFactory(), by=manager_a, closes_on=in_days(0))
    assert refused.value.message_dict == {"closes_on": ["Choose a closing day after today."]}
    round_close(round=round_, by=manager_a)
    assert round_open(engagement=round_.engagement, by=manager_a, closes_on=in_days(7)).is_open


def test_a_version_that_asks_the_client_nothing_cannot_hold_a_round(engagement, manager_a):
    from assessments.services import version_import, version_publish

    version = version_publish(version=version_import(document=small_document(), by=None), by=None)
    with pytest.raises(ValidationError) as refused:
        round_open(engagement=engagement, by=manager_a, closes_on=in_days(7), version=version)
    assert refused.value.message_dict == {
        "version": ["This questionnaire version asks the client nothing."]
    }


def test_the_link_opens_its_invitation_and_only_its_digest_is_kept(invited, round_, ana):
    invitation, secret = invited
    assert len(secret) >= 40
    stored = Invitation.objects.get()
    assert stored.token_digest == link_digest(secret)
    assert secret not in {str(value) for value in Invitation.objects.values().get().values()}
    assert invitation_for_link(secret) == invitation
    assert (invitation.stakeholder, invitation.round, invitation.language) == (ana, round_, "pt-br")
    # The end of the closing day where the product runs (stored in UTC, read back as such).
    assert timezone.localdate(stored.expires_at) == round_.closes_on
    assert timezone.localdate(stored.expires_at + timedelta(seconds=1)) > round_.closes_on


def test_a_wrong_revoked_expired_or_closed_link_opens_nothing(invited, manager_a, round_):
    invitation, secret = invited
    for wrong in ("", "x", secret[:-1], secret + "x", "a" * 500):
        assert invitation_for_link(wrong) is None
    invitation_revoke(invitation=invitation, by=manager_a)
    assert invitation_for_link(secret) is None
    fresh = invitation_resend(invitation=invitation, by=manager_a)  # restores, with a new link
    assert invitation_for_link(secret) is None
    assert invitation_for_link(fresh) == invitation
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    assert invitation_for_link(fresh) is None
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + timedelta(1))
    assert invitation_for_link(fresh) == invitation
    round_close(round=round_, by=manager_a)
    assert invitation_for_link(fresh) is None


def test_only_the_clients_stakeholders_with_an_email_are_invited_once(
    round_, ana, manager_a, b_client
):
    outsider = StakeholderFactory(client=b_client, email="x@segredo.example")
    no_email = StakeholderFactory(client=round_.engagement.client, email="")
    for stakeholder, message in (
        (outsider, "Invite the engagement's client's own stakeholders."),
        (no_email, "Add the stakeholder's e-mail before inviting them."),
    ):
        with pytest.raises(ValidationError) as refused:
            invitation_create(round=round_, stakeholder=stakeholder, language="es", by=manager_a)
        assert refused.value.message_dict == {"stakeholder": [message]}
    with pytest.raises(ValidationError) as refused:
        invitation_create(round=round_, stakeholder=ana, language="fr", by=manager_a)
    assert refused.value.message_dict == {"language": ["Choose one of the product's languages."]}
    invitation_create(round=round_, stakeholder=ana, language="es", by=manager_a)
    with pytest.raises(ValidationError, match="already invited"):
        invitation_create(round=round_, stakeholder=ana, language="es", by=manager_a)
    round_close(round=round_, by=manager_a)
    other = StakeholderFactory(client=round_.engagement.client, email="o@aurora.example")
    with pytest.raises(ValidationError, match="This round is closed"):
        invitation_create(round=round_, stakeholder=other, language="es", by=manager_a)


def test_erasing_the_stakeholder_takes_the_invitation_and_its_answers(invited):
    invitation, _secret = invited
    question = client_questions(invitation.round.version)[0]
    client_answer_save(invitation=invitation, question_id=question.pk, value=4, revision=None)
    invitation.stakeholder.delete()
    assert not Invitation.objects.exists()
    assert not ClientAnswer.objects.exists()


def test_answers_are_saved_as_given_and_a_stale_one_is_refused_with_the_current(invited):
    invitation, _secret = invited
    first, second = client_questions(invitation.round.version)[:2]
    saved = client_answer_save(invitation=invitation, question_id=first.pk, value=4, revision=None)
    assert (saved.value, saved.revision) == (4, 1)
    changed = client_answer_save(invitation=invitation, question_id=first.pk, value=2, revision=1)
    assert (changed.value, changed.revision) == (2, 2)
    with pytest.raises(StaleClientAnswer) as stale:  # another tab, still at revision 1
        client_answer_save(invitation=invitation, question_id=first.pk, value=5, revision=1)
    assert (stale.value.current.value, stale.value.current.revision) == (2, 2)
    with pytest.raises(StaleClientAnswer):  # a first answer where one exists already
        client_answer_save(invitation=invitation, question_id=first.pk, value=5, revision=None)
    unsure = client_answer_save(
        invitation=invitation, question_id=second.pk, value=None, revision=0
    )
    assert unsure.value is None
    assert ClientAnswer.objects.get(question=first).value == 2


@pytest.mark.parametrize(
    ("value", "field"),
    [(0, "value"), (6, "value"), (True, "value"), ("4", "value"), (None, "question")],
)
def test_a_level_out_of_range_or_a_question_not_asked_is_refused(invited, value, field):
    invitation, _secret = invited
    asked = client_questions(invitation.round.version)[0]
    not_asked = next(q for q in questions_by_id(invitation.round.version).values() if not q.client)
    question = not_asked if field == "question" else asked
    with pytest.raises(ValidationError) as refused:
        client_answer_save(invitation=invitation, question_id=question.pk, value=value, revision=0)
    assert list(refused.value.message_dict) == [field]
    assert not ClientAnswer.objects.exists()


@pytest.mark.parametrize("what", ["revoked", "closed", "expired"])
def test_a_link_that_stopped_working_since_it_was_opened_writes_nothing(invited, manager_a, what):
    invitation, secret = invited
    opened = invitation_for_link(secret)
    assert opened is not None
    if what == "revoked":
        invitation_revoke(invitation=invitation, by=manager_a)
    elif what == "closed":
        round_close(round=invitation.round, by=manager_a)
    else:
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    question = client_questions(opened.round.version)[0]
    with pytest.raises(ValidationError, match="no longer opens"):
        client_answer_save(invitation=opened, question_id=question.pk, value=3, revision=None)
    assert not ClientAnswer.objects.exists()


def test_finishing_is_recorded_once(invited):
    invitation, _secret = invited
    finished = invitation_finish(invitation=invitation).finished_at
    assert finished is not None
    assert invitation_finish(invitation=invitation).finished_at == finished


def test_finishing_tells_integrations_once_without_the_respondents_name(invited):
    from webhooks.events import EVENT_TYPES
    from webhooks.models import Event

    invitation, _secret = invited
    invitation_finish(invitation=invitation)
    invitation_finish(invitation=invitation)
    [event] = Event.objects.filter(type="client_response.received")
    data = event.payload["data"]
    assert set(data) == set(EVENT_TYPES["client_response.received"].fields)
    assert (data["invitation"], data["stakeholder"], data["questions"]) == (
        invitation.pk,
        invitation.stakeholder_id,
        16,
    )
    assert "Ana" not in str(event.payload)
