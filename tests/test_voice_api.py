"""The client's voice in the API (voice/api.py): rounds, invitations, client responses,
raters, reconciliation and gaps — with the client page's scoping (another manager's
rounds are 404, their engagements and stakeholders do not exist), the links' secrets
never returned, and the same figures as the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import AssessmentStatus
from assessments.services import assessment_submit
from tests.factories import EngagementFactory, StakeholderFactory, submitted_assessment
from voice.models import Invitation, Rater, Round
from voice.services import client_answer_save, client_questions, invitation_create, round_open

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"


def signed_in(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client)


@pytest.fixture
def ana(a_client):
    return StakeholderFactory(client=a_client, name="Ana Souza", email="ana@aurora.example")


@pytest.fixture
def round_(engagement, manager_a):
    return round_open(
        engagement=engagement, by=manager_a, closes_on=timezone.localdate() + timedelta(days=9)
    )


def said(response) -> str:
    """Every message of an API refusal, one after another."""
    return " ".join(e["message"] for e in response.json()["errors"])


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_a_manager_opens_a_round_invites_and_reads_the_responses(
    engagement, ana, manager_a, django_capture_on_commit_callbacks
):
    api = signed_in(manager_a)
    opened = api.post(
        "/api/v1/rounds/", {"engagement": engagement.pk, "closes_on": in_days(9)}, format="json"
    )
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    assert (body["is_open"], body["invited"], body["client"]) == (True, 0, engagement.client_id)
    assert body["opened_by"] == manager_a.pk
    # One open round per engagement: the second is a clear 400.
    again = api.post(
        "/api/v1/rounds/", {"engagement": engagement.pk, "closes_on": in_days(9)}, format="json"
    )
    assert again.status_code == 400
    assert "already has an open round" in said(again)

    with django_capture_on_commit_callbacks(execute=True):
        invited = api.post(
            "/api/v1/invitations/",
            {"round": body["id"], "stakeholder": ana.pk, "language": "pt-br"},
            format="json",
        )
    assert invited.status_code == 201, invited.json()
    invitation = invited.json()
    assert invitation["state"] == "waiting"
    assert not {"secret", "link", "token_digest", "nonce"} & set(invitation)
    assert "secret" not in invited.content.decode().lower()
    round_row = Round.objects.get(pk=body["id"])
    asked = client_questions(round_row.version)
    stored = Invitation.objects.get(pk=invitation["id"])
    client_answer_save(invitation=stored, question_id=asked[0].pk, value=4, revision=None)
    client_answer_save(invitation=stored, question_id=asked[1].pk, value=None, revision=None)

    listed = api.get("/api/v1/invitations/", {"round": body["id"]}).json()["results"]
    assert [(i["stakeholder"], i["answered"], i["state"]) for i in listed] == [
        (ana.pk, 2, "answering")
    ]
    responses = api.get("/api/v1/client-responses/", {"engagement": engagement.pk}).json()
    [response] = responses["results"]
    assert response["invitation"] == invitation["id"]
    assert sorted((a["question"], a["level"]) for a in response["answers"]) == sorted(
        [(asked[0].code, 4), (asked[1].code, None)]
    )
    assert (
        api.get("/api/v1/rounds/", {"engagement": engagement.pk}).json()["results"][0]["responded"]
        == 1
    )


def test_resend_revoke_and_close(round_, ana, manager_a, django_capture_on_commit_callbacks):
    api = signed_in(manager_a)
    invitation, _secret = invitation_create(
        round=round_, stakeholder=ana, language="pt-br", by=manager_a
    )
    url = f"/api/v1/invitations/{invitation.pk}/"
    revoked = api.post(f"{url}revoke/")
    assert (revoked.status_code, revoked.json()["state"]) == (200, "revoked")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resent = api.post(f"{url}resend/", {"language": "es"}, format="json")
    assert resent.status_code == 200
    assert (resent.json()["state"], resent.json()["language"]) == ("waiting", "es")
    assert api.post(f"{url}resend/", {"language": "klingon"}, format="json").status_code == 400
    closed = api.post(f"/api/v1/rounds/{round_.pk}/close/")
    assert (closed.status_code, closed.json()["is_open"]) == (200, False)
    assert api.get(url).json()["state"] == "closed"
    listed = {
        flag: [r["id"] for r in api.get("/api/v1/rounds/", {"open": flag}).json()["results"]]
        for flag in ("true", "false")
    }
    assert listed == {"true": [], "false": [round_.pk]}
    # A closed round takes no more invitations or resends: 400 with the reason.
    late = api.post(f"{url}resend/", {}, format="json")
    assert late.status_code == 400
    assert "closed" in said(late)


def test_bad_input_is_a_400_naming_the_field(round_, manager_a, a_client):
    api = signed_in(manager_a)
    no_email = StakeholderFactory(client=a_client, email="")
    response = api.post(
        "/api/v1/invitations/",
        {"round": round_.pk, "stakeholder": no_email.pk, "language": "fr"},
        format="json",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"language"}
    response = api.post(
        "/api/v1/invitations/",
        {"round": round_.pk, "stakeholder": no_email.pk, "language": "es"},
        format="json",
    )
    assert response.status_code == 400
    assert "e-mail" in said(response)
    past = api.post(
        "/api/v1/rounds/",
        {"engagement": round_.engagement_id, "closes_on": in_days(0)},
        format="json",
    )
    assert past.status_code == 400
    assert api.get("/api/v1/rounds/", {"open": "perhaps"}).status_code == 400
    assert api.get("/api/v1/invitations/", {"round": "x"}).status_code == 400


def test_another_managers_rounds_do_not_exist_for_them(round_, ana, manager_a, manager_b):
    from voice.reconciliation import rater_add

    invitation, _ = invitation_create(round=round_, stakeholder=ana, language="es", by=manager_a)
    rater = rater_add(round=round_, user=manager_a, by=manager_a)
    asked = client_questions(round_.version)[0]
    client_answer_save(invitation=invitation, question_id=asked.pk, value=3, revision=None)
    assert len(signed_in(manager_a).get("/api/v1/client-responses/").json()["results"]) == 1
    api = signed_in(manager_b)
    for url in (
        f"/api/v1/raters/{rater.pk}/",
        f"/api/v1/rounds/{round_.pk}/",
        f"/api/v1/rounds/{round_.pk}/gaps/",
        f"/api/v1/rounds/{round_.pk}/reconciliation/",
        f"/api/v1/invitations/{invitation.pk}/",
        f"/api/v1/client-responses/{invitation.pk}/",
    ):
        assert api.get(url).status_code == 404, url
    for url in (
        f"/api/v1/rounds/{round_.pk}/close/",
        f"/api/v1/invitations/{invitation.pk}/revoke/",
        f"/api/v1/invitations/{invitation.pk}/resend/",
        f"/api/v1/rounds/{round_.pk}/reconcile/",
    ):
        assert api.post(url, {}, format="json").status_code == 404, url
    assert api.delete(f"/api/v1/raters/{rater.pk}/").status_code == 404
    assert api.post(
        f"/api/v1/rounds/{round_.pk}/decisions/", {"question": "gov-1", "value": 3, "reason": "x"},
        format="json",
    ).status_code == 404  # fmt: skip
    for listing in ("rounds", "invitations", "raters", "client-responses"):
        assert api.get(f"/api/v1/{listing}/").json()["results"] == [], listing
    # Their ids fail like ids that never existed, as fields of a write.
    opened = api.post(
        "/api/v1/rounds/",
        {"engagement": round_.engagement_id, "closes_on": in_days(5)},
        format="json",
    )
    assert opened.status_code == 400
    assert opened.json()["errors"][0]["field"] == "engagement"
    invited = api.post(
        "/api/v1/invitations/",
        {"round": round_.pk, "stakeholder": ana.pk, "language": "es"},
        format="json",
    )
    assert {e["field"] for e in invited.json()["errors"]} == {"round", "stakeholder"}
    round_.refresh_from_db()
    assert round_.is_open


def test_the_gaps_are_the_pages_figures(round_, engagement, manager_a, a_client):
    """The hand computation of the managers' page test: Ana (5, 2) and Bia (3, 3) on
    governance, ours level 2 → client 3.5 ± 0.5, gap +1.5."""
    submitted_assessment(engagement, level=2, by=manager_a)
    asked = {q.code: q for q in client_questions(round_.version)}
    for name, given in {"ana": {"gov-1": 5, "gov-2": 2}, "bia": {"gov-1": 3, "gov-2": 3}}.items():
        person = StakeholderFactory(client=a_client, email=f"{name}@aurora.example")
        invitation, _ = invitation_create(
            round=round_, stakeholder=person, language="pt-br", by=manager_a
        )
        for code, level in given.items():
            client_answer_save(
                invitation=invitation, question_id=asked[code].pk, value=level, revision=None
            )
    body = signed_in(manager_a).get(f"/api/v1/rounds/{round_.pk}/gaps/").json()
    assert body["respondents"] == 2
    rows = {row["dimension"]: row for row in body["dimensions"]}
    governance = rows["governance"]
    assert governance["client_level"] == pytest.approx(3.5)
    assert governance["spread_levels"] == pytest.approx(0.5)
    assert governance["supplier_level"] == pytest.approx(2.0)
    assert governance["gap_levels"] == pytest.approx(1.5)
    assert (governance["respondents"], governance["wide"]) == (2, True)
    # Nobody answered knowledge: no gap rather than a zero.
    assert rows["process-knowledge"]["gap_levels"] is None
    assert rows["process-knowledge"]["respondents"] == 0


def test_raters_and_reconciliation_through_the_api(round_, manager_a, director, a_client):
    from tests.factories import AccountManagerFactory, answer_everything

    teammate = AccountManagerFactory()
    a_client.team_members.add(teammate)
    owner, lead = signed_in(manager_a), signed_in(teammate)
    added = [
        owner.post("/api/v1/raters/", {"round": round_.pk, "user": u.pk}, format="json")
        for u in (manager_a, teammate)
    ]
    assert [r.status_code for r in added] == [201, 201]
    # Someone who does not work on the client cannot rate it; a teammate cannot add raters.
    outsider = AccountManagerFactory()
    refused = owner.post(
        "/api/v1/raters/", {"round": round_.pk, "user": outsider.pk}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "user"
    assert (
        lead.post(
            "/api/v1/raters/", {"round": round_.pk, "user": director.pk}, format="json"
        ).status_code
        == 403
    )
    sheets = {r.user_id: r.sheet for r in Rater.objects.filter(round=round_)}
    answer_everything(sheets[manager_a.pk], level=2)
    answer_everything(sheets[teammate.pk], level=5)
    assessment_submit(assessment=sheets[manager_a.pk], by=manager_a)
    # The teammate has not handed in: the others' sheets stay hidden from them.
    assert lead.get(f"/api/v1/rounds/{round_.pk}/reconciliation/").status_code == 403
    assessment_submit(assessment=sheets[teammate.pk], by=teammate)
    found = owner.get(f"/api/v1/rounds/{round_.pk}/reconciliation/").json()
    assert (found["raters"], found["handed_in"], found["ready"]) == (2, 2, False)
    far = [q for q in found["questions"] if q["far_apart"]]
    assert far
    assert found["agreement"]["within_one"] == pytest.approx(
        1 - len(far) / found["agreement"]["questions"]
    )
    refused = owner.post(f"/api/v1/rounds/{round_.pk}/reconcile/")
    assert refused.status_code == 400
    assert "far apart on still need" in said(refused)
    # A decision needs a reason, a question of the round and a valid answer.
    code = far[0]["question"]
    no_reason = {"question": code, "value": 3, "reason": ""}
    assert (
        owner.post(f"/api/v1/rounds/{round_.pk}/decisions/", no_reason, format="json").status_code
        == 400
    )
    wrong = {"question": "no-such", "value": 3, "reason": "x"}
    bad = owner.post(f"/api/v1/rounds/{round_.pk}/decisions/", wrong, format="json")
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "question")
    assert (
        lead.post(
            f"/api/v1/rounds/{round_.pk}/decisions/",
            {"question": code, "value": 3, "reason": "mine"},
            format="json",
        ).status_code
        == 403
    )
    for line in far:
        proposal = line["ratings"][0]
        decided = owner.post(
            f"/api/v1/rounds/{round_.pk}/decisions/",
            {
                "question": line["question"],
                "value": proposal["value"],
                "not_applicable": proposal["not_applicable"],
                "reason": "Agreed on the call",
            },
            format="json",
        )
        assert decided.status_code == 200, decided.json()
    reconciled = owner.post(f"/api/v1/rounds/{round_.pk}/reconcile/")
    assert reconciled.status_code == 201, reconciled.json()
    round_.refresh_from_db()
    assert reconciled.json()["reconciled"] == round_.reconciled_id
    assert round_.reconciled.status == AssessmentStatus.SUBMITTED
    # Reconciled: raters can no longer be added or taken off.
    rater = Rater.objects.filter(round=round_).first()
    assert owner.delete(f"/api/v1/raters/{rater.pk}/").status_code == 400


def test_a_rater_is_taken_off_with_their_sheet_until_handed_in(round_, manager_a, a_client):
    from tests.factories import AccountManagerFactory

    teammate = AccountManagerFactory()
    a_client.team_members.add(teammate)
    owner = signed_in(manager_a)
    rater = owner.post("/api/v1/raters/", {"round": round_.pk, "user": teammate.pk}, format="json")
    sheet = rater.json()["sheet"]
    assert owner.delete(f"/api/v1/raters/{rater.json()['id']}/").status_code == 204
    assert not Rater.objects.filter(round=round_).exists()
    from assessments.models import Assessment

    assert not Assessment.objects.filter(pk=sheet).exists()


def test_lists_read_a_constant_number_of_statements(
    round_, manager_a, a_client, django_assert_max_num_queries
):
    api = signed_in(manager_a)
    asked = client_questions(round_.version)

    def invite(count):
        for n in range(count):
            person = StakeholderFactory(client=a_client, email=f"p{n}-{count}@aurora.example")
            invitation, _ = invitation_create(
                round=round_, stakeholder=person, language="es", by=manager_a
            )
            for question in asked[:3]:
                client_answer_save(
                    invitation=invitation, question_id=question.pk, value=3, revision=None
                )

    invite(2)
    counts = {}
    for url in ("/api/v1/rounds/", "/api/v1/invitations/", "/api/v1/client-responses/"):
        with django_assert_max_num_queries(12) as few:
            assert api.get(url).status_code == 200
        counts[url] = len(few.captured_queries)
    invite(8)
    for url, count in counts.items():
        with django_assert_max_num_queries(count):
            assert len(api.get(url).json()["results"]) >= 1


def test_a_round_closes_within_a_year(engagement, manager_a):
    api = signed_in(manager_a)
    far = api.post(
        "/api/v1/rounds/", {"engagement": engagement.pk, "closes_on": "9999-12-31"}, format="json"
    )
    assert far.status_code == 400
    assert "within a year" in said(far)
    assert not Round.objects.exists()
