"""The managers' page of the client's view (web/client_voice.py): open a round, invite
stakeholders (their links go out by e-mail), follow who answered and each e-mail, resend,
revoke, close — and the perception gap, checked against a hand computation. Scoped like
the client page: another manager's engagement is a 404 for every URL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from education import services as education
from tests.factories import EngagementFactory, StakeholderFactory, submitted_assessment
from voice.models import Invitation, Round
from voice.services import (
    client_answer_save,
    client_questions,
    invitation_create,
    invitation_for_link,
    round_open,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client)


@pytest.fixture
def people(a_client):
    return {
        "ana": StakeholderFactory(client=a_client, name="Ana Souza", email="ana@aurora.example"),
        "bia": StakeholderFactory(client=a_client, name="Bia Lima", email="bia@aurora.example"),
        "caio": StakeholderFactory(client=a_client, name="Caio Reis", email=""),
    }


def page(engagement, name="voice", *args):
    return reverse(f"clients:{name}", args=[engagement.client_id, engagement.pk, *args])


@pytest.fixture
def signed_in(client, manager_a):
    client.force_login(manager_a)
    return client


def in_days(days):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_without_a_round_the_page_offers_to_open_one(signed_in, engagement):
    html = signed_in.get(page(engagement)).content.decode()
    assert "Open a round" in html
    assert 'name="closes_on"' in html
    assert "Perception gap" not in html


def test_a_manager_opens_a_round_and_invites_stakeholders_by_email(signed_in, engagement, people):
    opened = signed_in.post(page(engagement, "voice_open"), {"closes_on": in_days(10)})
    round_ = Round.objects.get()
    assert opened.status_code == 302
    assert opened["Location"].endswith(f"?round={round_.pk}#invite")

    html = signed_in.get(page(engagement)).content.decode()
    assert "ana@aurora.example" in html
    assert "bia@aurora.example" in html
    assert f'value="{people["caio"].pk}"' not in html  # no e-mail: not invitable
    assert "Caio Reis" in html  # … but named, with where to add it

    invited = signed_in.post(
        page(engagement, "voice_invite", round_.pk),
        {
            "stakeholders": [people["ana"].pk, people["bia"].pk],
            f"language_{people['ana'].pk}": "pt-br",
            f"language_{people['bia'].pk}": "es",
        },
    )
    assert invited.status_code == 302
    assert {(i.stakeholder.name, i.language) for i in Invitation.objects.all()} == {
        ("Ana Souza", "pt-br"),
        ("Bia Lima", "es"),
    }
    assert "On its way" in signed_in.get(page(engagement)).content.decode()
    assert education.notifications_relay().sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@aurora.example", "bia@aurora.example"]
    html = signed_in.get(page(engagement)).content.decode()
    assert html.count("Link sent") == 2
    assert "Every stakeholder with an e-mail is invited." in html


def test_bad_input_is_refused_with_a_message_and_nothing_written(signed_in, engagement, people):
    past = signed_in.post(page(engagement, "voice_open"), {"closes_on": in_days(0)})
    assert past.status_code == 200
    assert "Choose a closing day after today." in past.content.decode()
    garbled = signed_in.post(page(engagement, "voice_open"), {"closes_on": "31/02", "version": "x"})
    assert garbled.status_code == 200
    assert not Round.objects.exists()

    signed_in.post(page(engagement, "voice_open"), {"closes_on": in_days(10)})
    round_ = Round.objects.get()
    nobody = signed_in.post(page(engagement, "voice_invite", round_.pk), {})
    assert "Tick at least one stakeholder to invite." in nobody.content.decode()
    stranger = StakeholderFactory(email="x@elsewhere.example")  # another client's
    other = signed_in.post(
        page(engagement, "voice_invite", round_.pk), {"stakeholders": [stranger.pk]}
    )
    assert other.status_code == 200
    assert "Select a valid choice" in other.content.decode()
    bad_language = signed_in.post(
        page(engagement, "voice_invite", round_.pk),
        {"stakeholders": [people["ana"].pk], f"language_{people['ana'].pk}": "klingon"},
    )
    assert bad_language.status_code == 200
    assert not Invitation.objects.exists()
    again = signed_in.post(page(engagement, "voice_open"), {"closes_on": in_days(10)})
    assert again.status_code == 302
    assert Round.objects.count() == 1  # one open round: the second is refused


def test_resend_revoke_and_close(signed_in, engagement, people, manager_a):
    round_ = round_open(
        engagement=engagement, by=manager_a, closes_on=timezone.localdate() + timedelta(days=9)
    )
    invitation, secret = invitation_create(
        round=round_, stakeholder=people["ana"], language="pt-br", by=manager_a
    )
    revoked = signed_in.post(page(engagement, "voice_revoke", invitation.pk))
    assert revoked.status_code == 302
    assert invitation_for_link(secret) is None
    assert "Link revoked" in signed_in.get(page(engagement)).content.decode()

    signed_in.post(page(engagement, "voice_resend", invitation.pk))
    education.notifications_relay()
    link = re.search(r"/r/([\w-]+)/", mail.outbox[-1].body).group(1)
    assert invitation_for_link(link) == invitation

    closed = signed_in.post(page(engagement, "voice_close", round_.pk))
    assert closed.status_code == 302
    assert invitation_for_link(link) is None
    html = signed_in.get(page(engagement)).content.decode()
    assert "Closed round" in html
    assert "Open a round" in html
    assert "Send invitations" not in html
    refused = signed_in.post(page(engagement, "voice_resend", invitation.pk), follow=True)
    assert "This round is closed." in refused.content.decode()


def test_another_managers_engagement_is_a_404_everywhere(
    client, manager_b, engagement, people, manager_a
):
    round_ = round_open(
        engagement=engagement, by=manager_a, closes_on=timezone.localdate() + timedelta(days=9)
    )
    invitation, _secret = invitation_create(
        round=round_, stakeholder=people["ana"], language="pt-br", by=manager_a
    )
    client.force_login(manager_b)
    assert client.get(page(engagement)).status_code == 404
    for name, args in (
        ("voice_open", ()),
        ("voice_invite", (round_.pk,)),
        ("voice_close", (round_.pk,)),
        ("voice_resend", (invitation.pk,)),
        ("voice_revoke", (invitation.pk,)),
    ):
        assert (
            client.post(page(engagement, name, *args), {"closes_on": in_days(5)}).status_code == 404
        )
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert Round.objects.count() == 1
    # The engagement under another client's address is not found either.
    other = reverse("clients:voice", args=[engagement.client_id + 1000, engagement.pk])
    client.force_login(manager_a)
    assert client.get(other).status_code == 404
    client.logout()
    assert client.get(page(engagement)).status_code == 302  # to sign in


def test_the_gap_against_a_hand_computation(signed_in, engagement, people, manager_a):
    older = submitted_assessment(engagement, level=2, by=manager_a)
    ours = submitted_assessment(engagement, level=2, by=manager_a)  # level 2 throughout
    round_ = round_open(
        engagement=engagement, by=manager_a, closes_on=timezone.localdate() + timedelta(days=9)
    )
    asked = {q.code: q for q in client_questions(round_.version)}
    answers = {"ana": {"gov-1": 5, "gov-2": 2}, "bia": {"gov-1": 3, "gov-2": 3}}
    for name, given in answers.items():
        invitation, _secret = invitation_create(
            round=round_, stakeholder=people[name], language="pt-br", by=manager_a
        )
        for code, level in given.items():
            client_answer_save(
                invitation=invitation, question_id=asked[code].pk, value=level, revision=None
            )
    html = signed_in.get(page(engagement)).content.decode()
    # Governance: gov-1 weighs 2, gov-2 1. Ana (5, 2): (2·1 + 1·0.25)/3 = 0.75 → 75 points,
    # level 4.0; Bia (3, 3): 0.5 → level 3.0. Mean 3.5, spread ±0.5; ours 2.0: gap +1.5.
    row = re.search(r"<tr class=\"gap-wide\">\s*<th scope=\"row\">Governance.*?</tr>", html, re.S)
    assert row, html
    cells = re.findall(r"<td class=\"num\">(.*?)</td>", row.group(0), re.S)
    assert [re.sub(r"<.*?>", "", c).split("they")[0].strip() for c in cells] == [
        "3.5",
        "±0.5",
        "2",
        "2.0",
        "+1.5",
    ]
    assert "they see themselves higher" in row.group(0)
    # The result page of the assessment compared shows the same; an older one does not.
    result = signed_in.get(reverse("assessments:result", args=[ours.pk])).content.decode()
    assert "The client's own view" in result
    assert "+1.5" in result
    older_page = signed_in.get(reverse("assessments:result", args=[older.pk])).content.decode()
    assert "The client's own view" not in older_page
    # A dimension nobody answered shows no gap rather than a zero.
    assert re.search(r"Knowledge of the outsourced process</th>\s*<td class=\"num\">—</td>", html)


def test_the_page_reads_a_constant_number_of_statements(
    signed_in, engagement, a_client, manager_a, django_assert_max_num_queries
):
    round_ = round_open(
        engagement=engagement, by=manager_a, closes_on=timezone.localdate() + timedelta(days=9)
    )
    asked = client_questions(round_.version)

    def invite(count):
        for n in range(count):
            person = StakeholderFactory(client=a_client, email=f"p{n}-{count}@aurora.example")
            invitation, _ = invitation_create(
                round=round_, stakeholder=person, language="es", by=manager_a
            )
            client_answer_save(
                invitation=invitation, question_id=asked[0].pk, value=3, revision=None
            )

    invite(2)
    signed_in.get(page(engagement))  # warm the per-process caches
    with django_assert_max_num_queries(30) as few:
        signed_in.get(page(engagement))
    invite(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        signed_in.get(page(engagement))


def test_the_client_page_shows_the_gap_round_by_round(
    signed_in, engagement, people, manager_a, django_assert_max_num_queries
):
    """Each round is compared with our view as it stood then: the first round with the
    assessment before it, the second with the one submitted since."""
    from voice.services import round_close

    submitted_assessment(engagement, level=2, by=manager_a)

    def a_round_answered_at(level):
        round_ = round_open(
            engagement=engagement,
            by=manager_a,
            closes_on=timezone.localdate() + timedelta(days=9),
        )
        asked = {q.code: q for q in client_questions(round_.version)}
        invitation, _ = invitation_create(
            round=round_, stakeholder=people["ana"], language="pt-br", by=manager_a
        )
        for code in ("gov-1", "gov-2"):
            client_answer_save(
                invitation=invitation, question_id=asked[code].pk, value=level, revision=None
            )
        return round_

    round_close(round=a_round_answered_at(4), by=manager_a)
    submitted_assessment(engagement, level=3, by=manager_a)
    a_round_answered_at(4)
    url = reverse("clients:detail", args=[engagement.client_id])
    html = signed_in.get(url).content.decode()
    row = re.search(
        r"<th scope=\"row\">Governance and contract management</th>(.*?)</tr>", html, re.S
    )
    assert row
    cells = re.findall(r"<td class=\"num[^\"]*\">(.*?)</td>", row.group(1))
    assert cells == ["+2.0", "+1.0"]  # ours was level 2, then 3; theirs 4 both times

    with django_assert_max_num_queries(60) as few:
        signed_in.get(url)
    round_close(round=Round.objects.get(closed_at__isnull=True), by=manager_a)
    a_round_answered_at(5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        signed_in.get(url)
