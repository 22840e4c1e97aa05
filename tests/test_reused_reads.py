"""Reads the ORM compiles once and PostgreSQL prepares once (core.sql.Reused): what they
return must be what the ORM's own query returns, for every kind of user and for every
user of a kind — the stand-in ids compiled into the statement are replaced on each run."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from assessments.models import QuestionnaireVersion, VersionStatus
from assessments.selectors import default_version
from assessments.services.assessments import past_experiences
from clients.models import Engagement
from clients.selectors import Audience, audience_of, engagement_visible, engagements_visible_to
from core.sql import Reused
from tests.factories import (
    AccountManagerFactory,
    AdministratorFactory,
    ClientFactory,
    DirectorFactory,
    EngagementFactory,
    bad_experiences,
)
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def as_the_orm_reads_it(user, pk: int) -> Engagement | None:
    return engagements_visible_to(user).select_related("client").filter(pk=pk).first()


def test_a_visible_engagement_is_read_with_its_client_as_the_orm_reads_it(
    django_assert_num_queries,
):
    owner, member, stranger = AccountManagerFactory.create_batch(3)
    client = ClientFactory(owner=owner, notes="Três fornecedores antes de nós.")
    client.team_members.add(member)
    engagement = EngagementFactory(client=client, description="Cobrança", phase="operation")
    other = EngagementFactory()  # another manager's client
    people = [owner, member, stranger, DirectorFactory(), AdministratorFactory()]
    for user in people:
        for pk in (engagement.pk, other.pk, 0):
            with django_assert_num_queries(1):
                read = engagement_visible(user, pk)
            expected = as_the_orm_reads_it(user, pk)
            assert (read is None) is (expected is None), (user.role, pk)
            if expected is not None:
                assert read is not None
                assert fields_of(read) == fields_of(expected)
                assert fields_of(read.client) == fields_of(expected.client)
    assert engagement_visible(owner, engagement.pk).client.notes == client.notes


def test_each_user_of_one_audience_gets_their_own_answer():
    """The managers share one compiled statement; each run puts in its own user's id."""
    first, second = AccountManagerFactory.create_batch(2)
    firsts = EngagementFactory(client=ClientFactory(owner=first))
    seconds = EngagementFactory(client=ClientFactory(owner=second))
    assert audience_of(first) is audience_of(second) is Audience.OWN_AND_TEAM
    assert engagement_visible(first, firsts.pk) is not None
    assert engagement_visible(second, firsts.pk) is None
    assert engagement_visible(second, seconds.pk) is not None
    assert engagement_visible(first, seconds.pk) is None


def test_no_one_is_refused_without_a_statement(django_assert_num_queries):
    engagement = EngagementFactory()
    inactive = engagement.client.owner
    inactive.is_active = False
    anonymous = SimpleNamespace(is_authenticated=False, pk=None)
    with django_assert_num_queries(0):
        assert engagement_visible(inactive, engagement.pk) is None
        assert engagement_visible(anonymous, engagement.pk) is None


def test_a_read_that_cannot_match_is_not_run(django_assert_num_queries):
    nothing = Reused(lambda _shape: Engagement.objects.filter(pk__in=[]).values_list("pk"))
    with django_assert_num_queries(0):
        assert nothing.rows(None) == []


def test_a_read_with_annotations_is_refused():
    from django.db.models import F

    annotated = Reused(
        lambda _shape: Engagement.objects.annotate(c=F("client_id")).values_list("c")
    )
    with pytest.raises(TypeError, match="fields, not annotations"):
        annotated.rows(None)


def test_the_default_version_is_the_newest_published_one(django_assert_num_queries):
    current = default_version()
    assert current is not None
    with django_assert_num_queries(1):
        read = default_version()
    assert read is not None
    expected = (
        QuestionnaireVersion.objects.filter(
            questionnaire__is_default=True, status=VersionStatus.PUBLISHED
        )
        .order_by("-number")
        .first()
    )
    assert fields_of(read) == fields_of(expected)
    QuestionnaireVersion.objects.filter(pk=read.pk).update(status=VersionStatus.RETIRED)
    newer = default_version()
    assert newer is None or newer.number < read.number


def test_past_experiences_come_in_the_scorings_order():
    client = ClientFactory()
    bad_experiences(
        client, (2, date(2024, 5, 1)), (5, None), (3, date(2025, 1, 31)), (4, date(2025, 1, 31))
    )
    rows = past_experiences(client.pk)
    assert [(severity, ended) for _id, _s, severity, _o, ended in rows] == [
        (5, None),
        (4, date(2025, 1, 31)),  # the same end: the newer row first
        (3, date(2025, 1, 31)),
        (2, date(2024, 5, 1)),
    ]
    assert past_experiences(ClientFactory().pk) == []


# The embedded default (SQLite) runs the same reads through an ordinary cursor: its rows
# need Django's conversions (dates, booleans), which the reads apply.
_ON_SQLITE = """
from datetime import date
from accounts.models import Role, User
from clients.models import Client, Engagement, PastExperience
from clients.selectors import engagement_visible, engagements_visible_to
from assessments.selectors import default_version
from assessments.services.assessments import past_experiences

owner = User.objects.create(username="o", role=Role.ACCOUNT_MANAGER)
client = Client.objects.create(name="C", owner=owner, is_active=True)
engagement = Engagement.objects.create(client=client, process_type="collections",
                                       start_date=date(2025, 3, 1))
PastExperience.objects.create(client=client, supplier="S", process_type="collections",
                              outcome="failure", severity=4, ended_on=date(2024, 5, 1))
fields = lambda o: {f.attname: getattr(o, f.attname) for f in type(o)._meta.concrete_fields}
read = engagement_visible(owner, engagement.pk)
expected = engagements_visible_to(owner).select_related("client").get(pk=engagement.pk)
assert fields(read) == fields(expected), (fields(read), fields(expected))
assert fields(read.client) == fields(expected.client)
assert read.client.is_active is True and read.start_date == date(2025, 3, 1)
assert past_experiences(client.pk)[0][2:] == (4, "failure", date(2024, 5, 1))
assert engagement_visible(owner, 2**63) is None  # beyond SQLite's integers: no statement
assert fields(default_version()) == fields(
    type(default_version()).objects.get(pk=default_version().pk)
)
print("same")
"""


def test_the_reads_return_the_orms_values_on_the_embedded_default(tmp_path):
    env = {"DEBUG": "true", "VAR_DIR": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": ""}
    migrated = run_manage("migrate", "-v0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    result = run_manage("shell", "--no-imports", "-c", _ON_SQLITE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "same"


def test_the_lock_in_sight_reads_the_assessment_as_the_orm_does(django_assert_num_queries):
    from django.db import transaction

    from assessments.models import Assessment
    from assessments.selectors import assessments_visible_to
    from assessments.services import assessment_start
    from assessments.services.assessments import lock_for_write

    owner, member, stranger = AccountManagerFactory.create_batch(3)
    client = ClientFactory(owner=owner)
    client.team_members.add(member)
    draft = assessment_start(engagement=EngagementFactory(client=client), by=owner)[0]
    sheet = assessment_start(engagement=EngagementFactory(client=client), by=member)[0]
    Assessment.objects.filter(pk=sheet.pk).update(rater_sheet=True)  # the member's only
    for user in (owner, member, stranger, DirectorFactory()):
        for target in (draft, sheet):
            expected = (
                assessments_visible_to(user)
                .select_related("version", "engagement")
                .filter(pk=target.pk)
                .first()
            )
            for holding in (False, True):
                with transaction.atomic():
                    with django_assert_num_queries(1) as captured:
                        try:
                            locked = lock_for_write(
                                Assessment(pk=target.pk),
                                in_sight_of=user,
                                holding_engagement=holding,
                            )
                        except Assessment.DoesNotExist:
                            locked = None
                    # Only the assessment's row, or with its engagement and client's share.
                    assert captured.captured_queries[0]["sql"].endswith(
                        "FOR NO KEY UPDATE OF a FOR UPDATE OF e FOR SHARE OF c"
                        if holding
                        else 'FOR UPDATE OF "assessments_assessment"'
                    )
                assert (locked is None) is (expected is None), (user.role, target.rater_sheet)
                if expected is not None:
                    assert fields_of(locked) == fields_of(expected)
                    assert fields_of(locked.version) == fields_of(expected.version)
                    assert fields_of(locked.engagement) == fields_of(expected.engagement)
    stored = Assessment.objects.get(pk=draft.pk)
    for holding in (False, True):
        with transaction.atomic(), django_assert_num_queries(1):
            locked = lock_for_write(Assessment(pk=draft.pk), holding_engagement=holding)
        assert fields_of(locked) == fields_of(stored)
        if holding:
            assert fields_of(locked.engagement) == fields_of(stored.engagement)


def test_a_submits_read_back_is_the_detail_prefetchs(django_assert_num_queries):
    from assessments.assessment_api import _answer_reads
    from assessments.models import AssessmentTransition
    from assessments.selectors import answers_in_form_order, history_of, questions_by_id
    from assessments.services import assessment_start, assessment_submit
    from tests.factories import answer_everything

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    answer_everything(draft, level=3)
    submitted = assessment_submit(assessment=draft, by=manager)
    with django_assert_num_queries(2):
        answers, history = answers_in_form_order(submitted), history_of(submitted)
    expected = list(_answer_reads().filter(assessment=submitted))
    assert [fields_of(a) for a in answers] == [fields_of(a) for a in expected]
    assert [a.question.code for a in answers] == [a.question_code for a in expected]
    assert len(answers) > 40
    answered = {a.question_id for a in answers}  # in the form's order, as the import shows
    assert [a.question_id for a in answers] == [
        pk for pk in questions_by_id(submitted.version) if pk in answered
    ]
    assert [fields_of(t) for t in history] == [
        fields_of(t)
        for t in AssessmentTransition.objects.filter(assessment=submitted).order_by("at", "id")
    ]
    assert [t.to_status for t in history] == ["draft", "submitted"]


@pytest.mark.parametrize("path", ["one statement", "ORM", "resubmission", "hand-in"])
def test_a_submit_brings_its_answers_and_history_as_stored(
    path, monkeypatch, django_assert_num_queries
):
    """A submit reads every answer and the history under its lock (one statement on
    PostgreSQL) and, when its caller shows them, returns them with its own new step:
    field by field what the ORM reads afterwards, the answers in the form's order with
    their questions, so the API's response needs no read-back. On each path a submit can
    take."""
    from assessments.assessment_api import _answer_reads
    from assessments.models import AssessmentTransition
    from assessments.selectors import questions_by_id
    from assessments.services import (
        assessment_review,
        assessment_start,
        assessment_submit,
        sheet_start,
    )
    from assessments.services import assessments as module
    from tests.factories import answer_everything

    if path == "ORM":
        monkeypatch.setattr(module.connection, "vendor", "other")
    manager = AccountManagerFactory()
    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    bad_experiences(engagement.client, (5, date(2024, 3, 1)), (3, None))
    if path == "hand-in":
        version = default_version()
        assert version is not None
        draft = sheet_start(engagement=engagement, rater=manager, version=version)
    else:
        draft = assessment_start(engagement=engagement, by=manager)[0]
    answer_everything(draft, level=3)
    if path == "resubmission":
        assessment_submit(assessment=draft, by=manager)
        assessment_review(
            assessment=draft, by=DirectorFactory(), approve=False, comment="Revise a note."
        )
    submitted = assessment_submit(assessment=draft, by=manager, shown=True)

    # As the API's serializer reads them: through the relations, which hand over what the
    # submit brought (a QuerySet's own .all() would be a new query, in the table's order).
    assert {"answers", "transitions"} <= set(submitted._prefetched_objects_cache)
    with django_assert_num_queries(0):
        answers, history = list(submitted.answers.all()), list(submitted.transitions.all())
    expected = list(_answer_reads().filter(assessment=submitted))
    assert len(answers) > 40
    assert [fields_of(a) for a in answers] == [fields_of(a) for a in expected]
    assert [a.question.code for a in answers] == [a.question_code for a in expected]
    answered = {a.question_id for a in answers}
    assert [a.question_id for a in answers] == [
        pk for pk in questions_by_id(submitted.version) if pk in answered
    ]
    assert {type(a.value) for a in answers} >= {int, str}  # values loaded from JSON
    stored = AssessmentTransition.objects.filter(assessment=submitted).order_by("at", "id")
    assert [fields_of(t) for t in history] == [fields_of(t) for t in stored]
    assert not any(t._state.adding for t in history)
    assert history[-1].to_status == submitted.status
    assert len(history) == {"resubmission": 4}.get(path, 2)
    # The scoring read the past experiences in the same statement.
    assert [e["supplier"] for e in submitted.result["evidence"]] == ["S3", "S5"]


def test_a_submit_not_shown_makes_no_answer_instances(monkeypatch):
    """The browser's submit redirects: it reads the answers' values for the scoring and
    no more (their whole rows and 48 instances cost about 0.6 ms, a tenth of a submit in
    bench/submit.py)."""
    from assessments.models import Answer
    from assessments.services import assessment_start, assessment_submit
    from tests.factories import answer_everything

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    answer_everything(draft, level=3)
    made = []
    monkeypatch.setattr(Answer, "from_db", classmethod(lambda cls, *a: made.append(a)))
    submitted = assessment_submit(assessment=draft, by=manager)
    assert made == []
    assert set(submitted._prefetched_objects_cache) == {"dimension_results"}
    assert submitted.maturity_score is not None


def test_an_api_submit_does_not_read_back_what_it_wrote(api, django_assert_num_queries):
    """BEGIN, the lock (the assessment, its engagement and client), the one read, the one
    write (the webhook event, the education plan's row and the engagement's standing with
    it), COMMIT (in the test's own transaction a savepoint and its release): nothing
    after."""
    from assessments.services import assessment_start
    from tests.factories import answer_everything

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    answer_everything(draft, level=3)
    api.force_authenticate(manager)
    with django_assert_num_queries(5) as captured:
        response = api.post(f"/api/v1/assessments/{draft.pk}/submit/")
    assert response.status_code == 200, response.content
    assert captured.captured_queries[-1]["sql"].startswith(("COMMIT", "RELEASE SAVEPOINT"))
    body = response.json()
    assert len(body["answers"]) > 40
    assert [step["to_status"] for step in body["transitions"]] == ["draft", "submitted"]
    assert body == api.get(f"/api/v1/assessments/{draft.pk}/").json()  # what was written


def test_an_api_answers_call_checks_and_writes_all_its_answers_in_one_statement(
    api, django_assert_num_queries
):
    """Every answer of a questionnaire, new or changed, in one statement (in the test's
    own transaction a savepoint and its release around it): no lock, no read, no BEGIN
    or COMMIT; what the response shows is what a read finds."""
    from assessments.selectors import questions_by_id
    from assessments.services import assessment_start

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    scales = [q for q in questions_by_id(draft.version).values() if q.type == "scale"]
    api.force_authenticate(manager)
    url = f"/api/v1/assessments/{draft.pk}/answers/"
    first = [{"question": q.pk, "value": 2, "note": f"n{q.pk}"} for q in scales]
    with django_assert_num_queries(3) as captured:
        response = api.post(url, first, format="json")
    assert response.status_code == 200, response.content
    assert "core_refuse_unless" in captured.captured_queries[1]["sql"]
    changed = [{"question": q.pk, "value": 4, "revision": 1} for q in scales]  # notes kept
    with django_assert_num_queries(3):
        response = api.post(url, changed, format="json")
    assert response.status_code == 200, response.content
    shown = {a["question"]: a for a in response.json()}
    assert {(a["value"], a["revision"]) for a in shown.values()} == {(4, 2)}
    assert all(shown[q.pk]["note"] == f"n{q.pk}" for q in scales)
    read = {a["question"]: a for a in api.get(f"/api/v1/assessments/{draft.pk}/").json()["answers"]}
    assert shown == read


def test_the_detail_knows_which_relations_it_prefetches():
    from assessments.assessment_api import DETAIL_RELATIONS, _prefetches

    assert {lookup.prefetch_to for lookup in _prefetches(detail=True)} == DETAIL_RELATIONS


@pytest.mark.django_db(transaction=True)
def test_a_lock_outside_a_transaction_is_refused_after_it_was_compiled():
    """Django refuses FOR UPDATE outside a transaction when it compiles the statement;
    a Reused lock is compiled once, so it checks on every run."""
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    from assessments.models import Assessment
    from assessments.services import assessment_start
    from assessments.services.assessments import lock_for_write
    from dashboards.standings import standing_refresh

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    ways: list[dict[str, Any]] = [
        {"in_sight_of": manager},
        {},
        {"in_sight_of": manager, "holding_engagement": True},
        {"holding_engagement": True},
    ]
    with transaction.atomic():
        for kwargs in ways:
            assert lock_for_write(Assessment(pk=draft.pk), **kwargs).pk == draft.pk
    for kwargs in ways:
        with pytest.raises(TransactionManagementError):
            lock_for_write(Assessment(pk=draft.pk), **kwargs)
    with pytest.raises(TransactionManagementError):  # nor is a lock said to be held
        standing_refresh(draft.engagement_id, held=True)


@pytest.mark.parametrize("pk", [2**63, 2**64, -(2**63) - 1])
def test_an_id_no_key_can_hold_finds_nothing_without_a_statement(pk, django_assert_num_queries):
    manager = AccountManagerFactory()
    with django_assert_num_queries(0):
        assert engagement_visible(manager, pk) is None


@pytest.mark.parametrize("pk", ["9223372036854775808", "18446744073709551616"])
def test_an_assessment_id_beyond_any_key_is_a_404(api, manager_a, pk):
    from api.services import api_token_issue

    _token, raw = api_token_issue(user=manager_a, name="t")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for action in ("submit", "answers"):
        body = [{"question": 1, "value": 3}] if action == "answers" else {}
        response = api.post(f"/api/v1/assessments/{pk}/{action}/", body, format="json")
        assert response.status_code == 404, (action, response.content[:200])


def test_a_requested_plan_is_a_saved_row(django_assert_num_queries):
    """plan_request writes its upsert by hand: what it returns must behave as the ORM's
    saved instance (a later save updates it)."""
    from assessments.services import assessment_start
    from education.models import EducationPlan
    from education.services.plans import plan_request

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    plan = plan_request(assessment=draft)
    assert not plan._state.adding
    stored = EducationPlan.objects.get(pk=plan.pk)
    assert fields_of(plan) == fields_of(stored)
    plan.last_error = "checked"
    with django_assert_num_queries(1):
        plan.save(update_fields=["last_error"])
    assert plan_request(assessment=draft).pk == plan.pk  # a second request: the same row


def test_an_engagement_id_beyond_any_key_is_an_unknown_engagement(api, manager_a):
    from api.services import api_token_issue

    _token, raw = api_token_issue(user=manager_a, name="t")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.post("/api/v1/assessments/", {"engagement": 2**64}, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("engagement", "does_not_exist")
    ]
