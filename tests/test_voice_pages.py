"""The pages a client respondent's link opens: the survey in their language, answers saved
one by one, the same 404 for any link that opens nothing, nothing else of the product
reachable, and a rate limit per address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EngagementFactory, StakeholderFactory
from voice.models import ClientAnswer, Invitation
from voice.services import (
    client_questions,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    round_close,
    round_open,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def invited(a_client, manager_a):
    round_ = round_open(
        engagement=EngagementFactory(client=a_client),
        by=manager_a,
        closes_on=timezone.localdate() + timedelta(days=10),
    )
    ana = StakeholderFactory(client=a_client, name="Ana Souza", email="ana@aurora.example")
    return invitation_create(round=round_, stakeholder=ana, language="pt-br", by=manager_a)


def survey(secret: str) -> str:
    return f"/r/{secret}/"


def test_the_link_opens_the_survey_in_the_invitations_language(client, invited, settings):
    settings.SUPPLIER_NAME = "Atlas Contact Center"
    invitation, secret = invited
    page = client.get(survey(secret))
    assert page.status_code == 200
    html = page.content.decode()
    first = client_questions(invitation.round.version)[0]
    assert first.client["text"]["pt-br"] in html
    assert first.client["levels"][0]["label"]["pt-br"] in html
    assert "Atlas Contact Center" in html
    assert "Aurora Varejo S.A." in html
    assert page["Content-Language"] == "pt-br"
    assert "16 perguntas" in html
    spanish = client.get(survey(secret), {"lang": "es"}).content.decode()
    assert first.client["text"]["es"] in spanish


def test_the_pages_reach_nothing_else_of_the_product(client, invited):
    _invitation, secret = invited
    html = client.get(survey(secret)).content.decode()
    targets = re.findall(r'(?:href|action|hx-post|src)="([^"]*)"', html)
    assert targets
    for target in targets:
        assert target.startswith((f"/r/{secret}/", "/static/", "data:")), target
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize("how", ["wrong", "revoked", "expired", "closed", "replaced"])
def test_a_link_that_opens_nothing_gets_the_same_404(client, invited, manager_a, how):
    invitation, secret = invited
    wrong = client.get(survey("x" * 43))
    if how == "revoked":
        invitation_revoke(invitation=invitation, by=manager_a)
    elif how == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    elif how == "closed":
        round_close(round=invitation.round, by=manager_a)
    elif how == "replaced":
        invitation_resend(invitation=invitation, by=manager_a)
    else:
        secret = secret[::-1]
    response = client.get(survey(secret))
    assert response.status_code == wrong.status_code == 404
    assert response.content == wrong.content
    posted = client.post(
        f"/r/{secret}/q/{client_questions(invitation.round.version)[0].pk}/", {"value": "3"}
    )
    assert posted.status_code == 404
    assert not ClientAnswer.objects.exists()


def test_an_answer_is_saved_as_chosen_and_a_stale_one_shows_the_current(client, invited):
    invitation, secret = invited
    question = client_questions(invitation.round.version)[0]
    url = f"/r/{secret}/q/{question.pk}/"
    saved = client.post(url, {"value": "4", "revision": "0", "lang": "pt-br"}, **HTMX)
    assert saved.status_code == 200
    assert "Salvo" in saved.content.decode()
    assert 'name="revision" value="1"' in saved.content.decode()
    assert "1 de 16 respondidas" in saved.content.decode()
    again = client.post(url, {"value": "2", "revision": "1"}, **HTMX)
    assert again.status_code == 200
    stale = client.post(url, {"value": "5", "revision": "1"}, **HTMX)  # another window
    assert stale.status_code == 409
    assert 'value="2" checked' in stale.content.decode()
    unsure = client_questions(invitation.round.version)[1]
    client.post(f"/r/{secret}/q/{unsure.pk}/", {"value": "unsure", "revision": "0"}, **HTMX)
    assert dict(ClientAnswer.objects.values_list("question_id", "value")) == {
        question.pk: 2,
        unsure.pk: None,
    }
    page = client.get(survey(secret)).content.decode()
    assert 'value="2" checked' in page
    assert 'value="unsure" checked' in page


def test_a_level_out_of_range_is_refused_on_its_question(client, invited):
    invitation, secret = invited
    question = client_questions(invitation.round.version)[0]
    refused = client.post(f"/r/{secret}/q/{question.pk}/", {"value": "9"}, **HTMX)
    assert refused.status_code == 422
    assert "Escolha um nível de 1 a 5." in refused.content.decode()
    assert not ClientAnswer.objects.exists()


def test_without_javascript_a_save_comes_back_to_the_page(client, invited):
    invitation, secret = invited
    question = client_questions(invitation.round.version)[0]
    response = client.post(f"/r/{secret}/q/{question.pk}/", {"value": "3", "lang": "es"})
    assert response.status_code == 302
    assert response["Location"] == f"/r/{secret}/?lang=es#question-{question.pk}"
    assert ClientAnswer.objects.get().value == 3


def test_finishing_thanks_the_respondent_and_keeps_the_answers_open(client, invited):
    invitation, secret = invited
    response = client.post(f"/r/{secret}/finish/", {"lang": "es"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.finished_at is not None
    page = client.get(survey(secret), {"lang": "es"}).content.decode()
    assert "Gracias" in page


def test_one_address_is_limited(client, invited, settings):
    settings.CLIENT_SURVEY_RATE_PER_MINUTE = 3
    _invitation, secret = invited
    codes = [client.get(survey(secret)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get(survey(secret), REMOTE_ADDR="198.51.100.7").status_code == 200


def test_the_respondents_language_does_not_stay_active_after_the_page(client, invited):
    from django.utils import translation

    _invitation, secret = invited
    before = translation.get_language()
    client.get(survey(secret), {"lang": "es"})
    assert translation.get_language() == before
