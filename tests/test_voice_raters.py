"""Several internal raters in a round, each on a sheet only they see, and the owner's
reconciliation into one submitted, scored assessment (docs/client-voice.md §3), with the
raters' agreement checked against a hand computation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from assessments.models import Answer, Assessment, AssessmentStatus
from assessments.selectors import assessments_visible_to, client_trend, questions_by_id
from assessments.services import (
    AnswerInput,
    answers_save,
    assessment_submit,
    version_import,
    version_publish,
)
from education.models import Notification, NotificationKind
from tests.factories import AccountManagerFactory, EngagementFactory
from tests.questionnaire_documents import levels, small_document, texts
from voice.models import Decision
from voice.reconciliation import (
    decision_record,
    rater_add,
    rater_remove,
    reconciliation_of,
    round_reconcile,
)
from voice.services import round_open
from webhooks.events import EVENT_TYPES
from webhooks.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    """The small test questionnaire, its scale question also asked of the client."""
    document = small_document("raters")
    document["dimensions"][0]["questions"][0]["client"] = {
        "text": texts("Does your team know the process?"),
        "levels": levels(),
    }
    return version_publish(version=version_import(document=document, by=None), by=None)


@pytest.fixture
def teammate(a_client):
    person = AccountManagerFactory(first_name="Carla", last_name="Quality")
    a_client.team_members.add(person)
    return person


@pytest.fixture
def round_(a_client, manager_a, version):
    engagement = EngagementFactory(client=a_client)
    return round_open(
        engagement=engagement,
        by=manager_a,
        closes_on=timezone.localdate() + timedelta(days=10),
        version=version,
    )


def fill(sheet, user, **given):
    """Answer the sheet: k-1 scale, k-2 yes/no, d-1 choice, d-2 number, d-3 text."""
    by_code = {q.code: q for q in questions_by_id(sheet.version).values()}
    answers_save(
        assessment=sheet,
        by=user,
        answers=[
            AnswerInput(question=by_code[code].pk, value=value, note=f"{user.first_name} on {code}")
            for code, value in given.items()
        ],
    )


@pytest.fixture
def three_raters(round_, manager_a, director, teammate):
    """The owner (A), a director (B) and a teammate (C) rate on their own sheets:
    k-1 4 / 3 / 5 and k-2 yes / yes / no are far apart; d-1 and d-2 within one level."""
    raters = [
        rater_add(round=round_, user=u, by=manager_a) for u in (manager_a, director, teammate)
    ]
    given = (
        {"k-1": 4, "k-2": True, "d-1": "always", "d-2": 50, "d-3": "A's view"},
        {"k-1": 3, "k-2": True, "d-1": "always", "d-2": 60},
        {"k-1": 5, "k-2": False, "d-1": "always", "d-2": 70, "d-3": "C's view"},
    )
    for rater, answers in zip(raters, given, strict=True):
        fill(rater.sheet, rater.user, **answers)
    return raters


def hand_in(rater):
    return assessment_submit(assessment=rater.sheet, by=rater.user)


def test_three_raters_reconciled_into_a_submitted_scored_assessment(
    three_raters, round_, manager_a
):
    for rater in three_raters:
        assert hand_in(rater).status == AssessmentStatus.HANDED_IN
    found = reconciliation_of(round_)
    assert [line.question.code for line in found.far] == ["k-1", "k-2"]

    # Hand computation. Levels (1 + 4·trait): k-1 as given; yes 5, no 1; "always" 5;
    # d-2 on 0–100: 50 → 3.0, 60 → 3.4, 70 → 3.8; d-3 is a text, not scored.
    #   A = (4, 5, 5, 3.0)   B = (3, 5, 5, 3.4)   C = (5, 1, 5, 3.8)
    # Within one level: d-1 and d-2 of the four questions rated → 0.5.
    # κ = 2·cov / (var_a + var_b + (mean_a − mean_b)²), population moments:
    #   A–B: cov 0.625, var 0.6875 + 0.83, means 4.25 − 4.1 → 1.25 / 1.54
    #   A–C: cov −0.375, var 0.6875 + 2.67, means 4.25 − 3.7 → −0.75 / 3.66
    #   B–C: cov −0.69, var 0.83 + 2.67, means 4.1 − 3.7 → −1.38 / 3.66
    assert found.agreement.within_one == 0.5
    assert found.agreement.questions == 4
    assert found.agreement.pairs == 3
    assert found.agreement.kappa == pytest.approx((1.25 / 1.54 + (-0.75 - 1.38) / 3.66) / 3)
    knowledge = {d.code: a for d, a in found.by_dimension}["knowledge"]
    assert knowledge.within_one == 0.0  # both its questions are far apart

    assert not found.ready
    with pytest.raises(ValidationError, match="2 questions the raters are far apart on"):
        round_reconcile(round=round_, by=manager_a)
    by_code = {line.question.code: line.question for line in found.lines}
    decision_record(
        round=round_,
        question=by_code["k-1"],
        value=4,
        not_applicable=False,
        reason="The operations lead's process maps",
        by=manager_a,
    )
    decision_record(
        round=round_,
        question=by_code["k-2"],
        value=True,
        not_applicable=False,
        reason="Two of three saw them",
        by=manager_a,
    )
    assessment = round_reconcile(round=round_, by=manager_a)

    assert assessment.status == AssessmentStatus.SUBMITTED
    assert not assessment.rater_sheet
    stored = {a.question.code: a for a in Answer.objects.filter(assessment=assessment)}
    # Decided, decided, unanimous, the median of 50/60/70, the first rater's text.
    assert {code: a.value for code, a in stored.items()} == {
        "k-1": 4,
        "k-2": True,
        "d-1": "always",
        "d-2": 60,
        "d-3": "A's view",
    }
    assert stored["k-1"].note == "Agreed in reconciliation: The operations lead's process maps"
    assert "on d-1" in stored["d-1"].note  # the raters' notes, each named
    # Scored like any assessment: k-1 (4, weight 2) and k-2 (yes) → (2·0.75 + 1)/3.
    assert assessment.result["dimensions"][0]["score"] == pytest.approx(100 * 2.5 / 3)
    round_.refresh_from_db()
    assert round_.reconciled_id == assessment.pk
    [event] = Event.objects.filter(type="round.reconciled")
    assert set(event.payload["data"]) == set(EVENT_TYPES["round.reconciled"].fields)
    assert event.payload["data"]["assessment"] == assessment.pk
    assert event.payload["data"]["within_one"] == 0.5
    # Only the reconciled assessment is trended; the sheets are not.
    trend = client_trend(round_.engagement.client.engagements.all())
    assert [point["assessment"].pk for s in trend["series"] for point in s["points"]] == [
        assessment.pk
    ]
    with pytest.raises(ValidationError, match="already reconciled"):
        round_reconcile(round=round_, by=manager_a)


def test_a_sheet_is_seen_by_its_rater_alone(three_raters, client, director, teammate, round_):
    owner_sheet = three_raters[0].sheet
    assert list(assessments_visible_to(director).filter(rater_sheet=True)) == [
        three_raters[1].sheet
    ]
    client.force_login(teammate)
    assert client.get(reverse("assessments:fill", args=[owner_sheet.pk])).status_code == 404
    assert (
        client.get(reverse("assessments:fill", args=[three_raters[2].sheet.pk])).status_code == 200
    )
    # The reconciliation shows the others' sheets only once one's own is handed in.
    page = reverse(
        "clients:voice_reconcile",
        args=[round_.engagement.client_id, round_.engagement_id, round_.pk],
    )
    assert client.get(page).status_code == 302
    hand_in(three_raters[2])
    assert client.get(page).status_code == 200


def test_only_the_owner_or_a_director_decides_and_reconciles(three_raters, round_, teammate):
    for rater in three_raters:
        hand_in(rater)
    question = reconciliation_of(round_).far[0].question
    with pytest.raises(PermissionDenied):
        decision_record(
            round=round_, question=question, value=3, not_applicable=False, reason="x", by=teammate
        )
    with pytest.raises(PermissionDenied):
        round_reconcile(round=round_, by=teammate)


def test_a_decision_needs_a_valid_answer_and_a_reason(three_raters, round_, manager_a):
    question = next(q for q in questions_by_id(round_.version).values() if q.code == "k-1")
    with pytest.raises(ValidationError) as refused:
        decision_record(
            round=round_, question=question, value=9, not_applicable=False, reason=" ", by=manager_a
        )
    assert set(refused.value.message_dict) == {"value", "reason"}
    assert not Decision.objects.exists()


def test_two_sheets_at_least(round_, manager_a, director):
    raters = [rater_add(round=round_, user=u, by=manager_a) for u in (manager_a, director)]
    fill(raters[0].sheet, manager_a, **{"k-1": 3, "k-2": True, "d-1": "never", "d-2": 1})
    hand_in(raters[0])
    with pytest.raises(ValidationError, match="At least two raters"):
        round_reconcile(round=round_, by=manager_a)


def test_raters_are_people_who_work_on_the_client_once_each(round_, manager_a, manager_b, teammate):
    with pytest.raises(ValidationError, match="does not work on this client"):
        rater_add(round=round_, user=manager_b, by=manager_a)
    rater = rater_add(round=round_, user=teammate, by=manager_a)
    with pytest.raises(ValidationError, match="already rates this round"):
        rater_add(round=round_, user=teammate, by=manager_a)
    with pytest.raises(PermissionDenied):
        rater_add(round=round_, user=manager_a, by=teammate)
    # Told, with a link to the sheet.
    notice = Notification.objects.get(recipient=teammate)
    assert notice.kind == NotificationKind.RATING_REQUESTED
    assert notice.params["sheet"] == rater.sheet_id


def test_a_rater_with_an_assessment_open_is_refused(round_, manager_a, teammate):
    from assessments.services import assessment_start

    assessment_start(engagement=round_.engagement, by=teammate)
    with pytest.raises(ValidationError, match="has an assessment of this engagement open"):
        rater_add(round=round_, user=teammate, by=manager_a)


def test_removing_a_rater_deletes_their_sheet_until_handed_in(three_raters, manager_a):
    from education.models import Delivery

    first, second = three_raters[:2]
    asked = Notification.objects.filter(kind=NotificationKind.RATING_REQUESTED)
    firsts = asked.get(recipient=first.user)
    assert Delivery.objects.filter(notification=firsts).exists()  # an e-mail waits
    rater_remove(rater=first, by=manager_a)
    assert not Assessment.objects.filter(pk=first.sheet_id).exists()
    # The request to fill the sheet goes with it, and its e-mail if not sent yet; the
    # others' stay.
    assert not asked.filter(recipient=first.user).exists()
    assert not Delivery.objects.filter(notification_id=firsts.pk).exists()
    assert asked.filter(recipient=second.user).exists()
    hand_in(second)
    with pytest.raises(ValidationError, match="handed in"):
        rater_remove(rater=second, by=manager_a)


def test_a_sheet_is_not_reviewed_planned_or_submitted_twice(three_raters):
    from education.models import EducationPlan

    sheet = hand_in(three_raters[0])
    assert sheet.maturity_score is not None  # scored for its rater
    assert hand_in(three_raters[0]).status == AssessmentStatus.HANDED_IN  # idempotent
    assert not EducationPlan.objects.exists()
    assert not Event.objects.filter(type="assessment.submitted").exists()


def voice_url(round_, name, *args):
    engagement = round_.engagement
    return reverse(f"clients:{name}", args=[engagement.client_id, engagement.pk, *args])


def test_the_pages_add_raters_decide_and_reconcile(client, round_, manager_a, director, teammate):
    client.force_login(manager_a)
    for person in (manager_a, director):
        added = client.post(voice_url(round_, "voice_rater_add", round_.pk), {"user": person.pk})
        assert added.status_code == 302
    refused = client.post(
        voice_url(round_, "voice_rater_add", round_.pk), {"user": "x"}, follow=True
    )
    assert "Choose who rates the round." in refused.content.decode()
    page = client.get(voice_url(round_, "voice")).content.decode()
    assert "Fill in my sheet" in page  # the owner rates too
    assert "Carla Quality" in page  # … and may ask the teammate

    raters = list(round_.raters.select_related("sheet", "user"))
    fill(raters[0].sheet, manager_a, **{"k-1": 1, "k-2": True, "d-1": "never", "d-2": 10})
    fill(raters[1].sheet, director, **{"k-1": 5, "k-2": True, "d-1": "never", "d-2": 10})
    for rater in raters:
        hand_in(rater)
    reconcile_page = voice_url(round_, "voice_reconcile", round_.pk)
    html = client.get(reconcile_page).content.decode()
    assert "Questions the raters are far apart on" in html
    assert "Knows?" in html

    k1 = next(q for q in questions_by_id(round_.version).values() if q.code == "k-1")
    decide = voice_url(round_, "voice_decide", round_.pk, k1.pk)
    bad = client.post(decide, {"value": "3", "reason": ""})
    assert bad.status_code == 400
    assert "Say why this is the agreed answer." in bad.content.decode()
    assert 'value="3" checked' in bad.content.decode()  # what was chosen stays
    assert client.post(decide, {"value": "3", "reason": "Met in the middle"}).status_code == 302
    done = client.post(voice_url(round_, "voice_reconciled", round_.pk))
    round_.refresh_from_db()
    assert done["Location"] == reverse("assessments:result", args=[round_.reconciled_id])
    assert Answer.objects.get(assessment_id=round_.reconciled_id, question=k1).value == 3


def test_another_managers_round_is_a_404(client, round_, manager_b):
    client.force_login(manager_b)
    assert client.get(voice_url(round_, "voice_reconcile", round_.pk)).status_code == 404
    assert (
        client.post(
            voice_url(round_, "voice_rater_add", round_.pk), {"user": manager_b.pk}
        ).status_code
        == 404
    )
    assert client.post(voice_url(round_, "voice_reconciled", round_.pk)).status_code == 404


def test_who_may_rate_is_who_sees_the_client(a_client, manager_a, manager_b, director, teammate):
    from accounts.models import User
    from clients.selectors import clients_visible_to, people_who_see
    from tests.factories import DirectorFactory

    DirectorFactory(is_active=False)
    AccountManagerFactory(is_superuser=True)
    seeing = {
        user.pk
        for user in User.objects.all()
        if clients_visible_to(user).filter(pk=a_client.pk).exists()
    }
    assert set(people_who_see(a_client).values_list("pk", flat=True)) == seeing
    assert {manager_a.pk, director.pk, teammate.pk} <= seeing
    assert manager_b.pk not in seeing


def test_an_agreed_answer_is_checked_like_any_answer(three_raters, round_, manager_a):
    """What reconcile would write is refused when it is decided, never a 500 later: a
    text with a NUL or a broken character, "not applicable" where the question does not
    allow it, a reason too long."""
    by_code = {q.code: q for q in questions_by_id(round_.version).values()}

    def decide(code, value=None, not_applicable=False, reason="On the call"):
        decision_record(
            round=round_,
            question=by_code[code],
            value=value,
            not_applicable=not_applicable,
            reason=reason,
            by=manager_a,
        )

    for value in ("a\x00b", "\ud800"):
        with pytest.raises(ValidationError) as refused:
            decide("d-3", value)
        assert set(refused.value.message_dict) == {"value"}
    with pytest.raises(ValidationError, match="not allowed") as refused:
        decide("k-1", not_applicable=True)  # k-1 does not allow "not applicable"
    assert set(refused.value.message_dict) == {"not_applicable"}
    with pytest.raises(ValidationError) as refused:
        decide("k-1", 4, reason="x" * 2001)
    assert set(refused.value.message_dict) == {"reason"}
    decide("k-2", not_applicable=True)  # k-2 allows it
    assert Decision.objects.get(question=by_code["k-2"]).not_applicable


def test_someone_off_the_client_is_refused_as_a_rater_without_being_named(round_, manager_a):
    outsider = AccountManagerFactory(first_name="Secret", last_name="Person")
    with pytest.raises(ValidationError) as refused:
        rater_add(round=round_, user=outsider, by=manager_a)
    assert "Secret" not in str(refused.value)
