"""Importing a finished assessment in one call (POST /api/v1/assessments/import/): the same
assessment the three calls make, all or nothing, scoped like the rest, idempotent with a
key, and within the statement budget of issue 15."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from api.services import api_token_issue
from assessments.models import Answer, Assessment, AssessmentStatus, AssessmentTransition
from assessments.selectors import questions_by_id
from assessments.services import (
    AnswerInput,
    answers_save,
    assessment_import,
    assessment_start,
    assessment_submit,
)
from clients.models import Engagement
from education.models import EducationPlan, PlanStatus
from tests.factories import (
    ClientFactory,
    EngagementFactory,
    bad_experiences,
    published_default_version,
)
from tests.test_assessment_services import stored_state
from tests.test_assessments_api import NOTHING_PUBLISHED
from tests.test_reused_reads import fields_of
from webhooks.models import Event

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments/import/"


def value_for(question: Any, level: int) -> Any:
    if question.type == "scale":
        return level
    if question.type == "choice":
        return question.options[min(level, len(question.options)) - 1]["code"]
    if question.type == "yes_no":
        return level >= 3
    if question.type == "number":
        return question.min_value
    return f"Level {level}, noted in the workshop."


def answers_of(version: Any, level: int = 3) -> list[dict[str, Any]]:
    """An answer to every question; the first optional one marked not applicable."""
    answers = []
    marked = False
    for question in questions_by_id(version).values():
        if question.allow_na and not question.required and not marked:
            answers.append(
                {"question": question.pk, "not_applicable": True, "na_reason": "No IVR."}
            )
            marked = True
        else:
            answers.append(
                {"question": question.pk, "value": value_for(question, level), "note": "ok"}
            )
    return answers


def with_past_experiences(engagement: Any) -> Any:
    bad_experiences(engagement.client, (5, date(2024, 3, 1)), (3, None))
    return engagement


@pytest.fixture
def version():
    return published_default_version()


@pytest.fixture
def engagement(a_client):
    return with_past_experiences(EngagementFactory(client=a_client))


def test_an_import_stores_what_start_answers_and_submit_store(
    as_a, manager_a, engagement, version, director
):
    from webhooks.models import Delivery
    from webhooks.services import endpoint_create

    subscribed = endpoint_create(
        url="http://127.0.0.1:9/hook", event_types=["assessment.submitted"], by=director
    )
    answers = answers_of(version)
    # The same answers through the three steps, on an engagement of another client with
    # the same past experiences.
    twin = with_past_experiences(EngagementFactory(client=ClientFactory(owner=manager_a)))
    three = assessment_start(engagement=twin, by=manager_a)[0]
    answers_save(assessment=three, by=manager_a, answers=[AnswerInput(**item) for item in answers])
    assessment_submit(assessment=three, by=manager_a)

    response = as_a.post(URL, {"engagement": engagement.pk, "answers": answers}, format="json")

    assert response.status_code == 201, response.content[:500]
    imported = Assessment.objects.get(pk=response.json()["id"])
    assert (imported.engagement, imported.assessor, imported.version) == (
        engagement,
        manager_a,
        version,
    )
    assert stored_state(imported) == stored_state(three)
    stored = list(
        Answer.objects.filter(assessment=imported)
        .order_by("question_id")
        .values("question_id", "value", "not_applicable", "na_reason", "note", "revision")
    )
    assert stored == list(
        Answer.objects.filter(assessment=three)
        .order_by("question_id")
        .values("question_id", "value", "not_applicable", "na_reason", "note", "revision")
    )
    assert list(
        AssessmentTransition.objects.filter(assessment=imported).values_list(
            "from_status", "to_status"
        )
    ) == [("", AssessmentStatus.DRAFT), (AssessmentStatus.DRAFT, AssessmentStatus.SUBMITTED)]
    # What a submit sets off: the education plan and the webhook event.
    assert EducationPlan.objects.get(assessment=imported).status == PlanStatus.PENDING
    # Its event rode in its insert, under the id reserved beforehand: the submit's event,
    # but for what names the assessment, and queued for the subscribed endpoint.
    event = Event.objects.get(type="assessment.submitted", payload__data__assessment=imported.pk)
    theirs = Event.objects.get(type="assessment.submitted", payload__data__assessment=three.pk)

    def alike(payload: dict[str, Any]) -> tuple[Any, ...]:
        named = ("assessment", "engagement", "client", "submitted_at", "url")
        data = {key: value for key, value in payload["data"].items() if key not in named}
        return payload["type"], payload["version"], data

    assert alike(event.payload) == alike(theirs.payload)
    assert event.payload["data"]["url"].endswith(f"/assessments/{imported.pk}/result/")
    assert event.payload["data"]["engagement"] == engagement.pk
    assert Delivery.objects.filter(event=event, endpoint=subscribed).count() == 1


def test_the_answer_is_the_assessment_as_the_detail_shows_it(as_a, engagement, version):
    """The response is built from what was written, not read back: it must say exactly
    what a later GET says."""
    response = as_a.post(
        URL, {"engagement": engagement.pk, "answers": answers_of(version, 4)}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "submitted"
    assert body["result"]["maturity_level"] is not None
    assert len(body["answers"]) == len(questions_by_id(version))
    assert body == as_a.get(f"/api/v1/assessments/{body['id']}/").json()


def test_an_open_draft_is_left_alone(as_a, manager_a, engagement, version):
    draft = assessment_start(engagement=engagement, by=manager_a)[0]
    response = as_a.post(
        URL, {"engagement": engagement.pk, "answers": answers_of(version)}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["id"] != draft.pk
    draft.refresh_from_db()
    assert draft.status == AssessmentStatus.DRAFT


def nothing_written() -> None:
    assert not Assessment.objects.exists()
    assert not Answer.objects.exists()
    assert not EducationPlan.objects.exists()
    assert not Event.objects.filter(type="assessment.submitted").exists()


def test_one_bad_answer_refuses_the_whole_import_naming_it(as_a, engagement, version):
    answers = answers_of(version)
    scale = next(
        i
        for i, item in enumerate(answers)
        if questions_by_id(version)[item["question"]].type == "scale" and "value" in item
    )
    answers[scale]["value"] = 9
    last = len(answers) - 1
    answers[last]["note"] = "x" * 6000
    response = as_a.post(URL, {"engagement": engagement.pk, "answers": answers}, format="json")
    assert response.status_code == 400, response.content[:500]
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {f"answers.{scale}.value", f"answers.{last}.note"}
    nothing_written()


def test_unanswered_required_questions_refuse_the_import(as_a, engagement, version):
    answers = answers_of(version)
    required = [item for item in answers if questions_by_id(version)[item["question"]].required]
    dropped = required[:2]
    response = as_a.post(
        URL,
        {"engagement": engagement.pk, "answers": [a for a in answers if a not in dropped]},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("answers", "required")] * 2
    codes = [questions_by_id(version)[item["question"]].code for item in dropped]
    assert [e["message"] for e in errors] == [
        f"Question {code} is not answered yet." for code in codes
    ]
    nothing_written()


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (lambda a, other: [*a, {"question": other, "value": 3}], "question"),
        (lambda a, other: [*a, a[0]], "question"),
    ],
    ids=["another version's question", "a question twice"],
)
def test_a_question_of_another_version_or_twice_is_refused(
    as_a, engagement, version, answers, field
):
    from assessments.services import version_copy_to_draft

    other = version_copy_to_draft(version=version, by=None)
    other_question = next(iter(questions_by_id(other)))
    body = answers(answers_of(version), other_question)
    response = as_a.post(URL, {"engagement": engagement.pk, "answers": body}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [f"answers.{len(body) - 1}.{field}"]
    nothing_written()


def test_an_import_is_made_on_the_newest_published_version_and_refused_without_one(
    as_a, engagement, version, director
):
    """The default version is read in the engagement's statement: the newest published
    one; none published is the start's refusal, in the same words."""
    from assessments.models import QuestionnaireVersion, VersionStatus
    from assessments.services import version_copy_to_draft, version_publish

    newer = version_copy_to_draft(version=version, by=director)
    version_publish(version=newer, by=director)
    body = {"engagement": engagement.pk, "answers": answers_of(newer)}
    response = as_a.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["questionnaire_version"] == newer.pk != version.pk
    Assessment.objects.all().delete()
    QuestionnaireVersion.objects.update(status=VersionStatus.RETIRED)
    refused = as_a.post(URL, body, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == NOTHING_PUBLISHED
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"answers": []},
        {"answers": {"question": 1}},
        {"answers": [{"question": "one"}]},
        {},
    ],
    ids=["no answers", "not a list", "a question that is not an id", "nothing"],
)
def test_malformed_imports_are_400_naming_the_field(as_a, engagement, body):
    response = as_a.post(URL, {"engagement": engagement.pk, **body}, format="json")
    assert response.status_code == 400
    assert all(e["field"].startswith("answers") for e in response.json()["errors"])
    nothing_written()


def test_another_managers_engagement_fails_like_one_that_does_not_exist(as_a, b_client, version):
    hidden = EngagementFactory(client=b_client)
    answers = answers_of(version)
    refused = as_a.post(URL, {"engagement": hidden.pk, "answers": answers}, format="json")
    missing = as_a.post(URL, {"engagement": 999_999_999, "answers": answers}, format="json")
    assert refused.status_code == missing.status_code == 400
    assert [e["code"] for e in refused.json()["errors"]] == ["does_not_exist"]
    assert refused.json()["errors"][0]["message"].replace(str(hidden.pk), "N") == missing.json()[
        "errors"
    ][0]["message"].replace("999999999", "N")
    nothing_written()


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_an_engagement_deleted_while_importing_is_refused_like_a_missing_one(
    as_a, engagement, version, monkeypatch, vendor
):
    """Deleted after the import read it, before the import is written: the insert finds
    no engagement to hold (or, elsewhere, none to point at) and answers as for a missing
    one — not a 500."""
    from assessments.services import imports as module

    if vendor != "postgresql":
        monkeypatch.setattr(module.connection, "vendor", vendor)
    read = module.engagement_with_experiences

    def read_then_deleted(*args, **kwargs):
        reading = read(*args, **kwargs)
        Engagement.objects.filter(pk=engagement.pk).delete()
        return reading

    monkeypatch.setattr(module, "engagement_with_experiences", read_then_deleted)
    body = {"engagement": engagement.pk, "answers": answers_of(version)}
    refused = as_a.post(URL, body, format="json")
    assert refused.status_code == 400, refused.content
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("engagement", "does_not_exist")
    ]
    nothing_written()


def test_a_read_only_token_cannot_import(api, manager_a, engagement, version):
    _token, raw = api_token_issue(user=manager_a, name="BI", read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.post(
        URL, {"engagement": engagement.pk, "answers": answers_of(version)}, format="json"
    )
    assert response.status_code == 403
    nothing_written()


def test_a_retried_import_with_its_key_imports_once(api, manager_a, engagement, version):
    _token, raw = api_token_issue(user=manager_a, name="CRM")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"engagement": engagement.pk, "answers": answers_of(version)}
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="import-2026-42")
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="import-2026-42")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Assessment.objects.count() == 1


@pytest.mark.parametrize("portfolio", [0, 30])
def test_an_import_costs_five_statements_whatever_the_portfolio(
    api, manager_a, version, portfolio, django_assert_num_queries
):
    """Within issue 15's budget (12) for an integration's whole write, with a token (its
    lookup is one of them), at two portfolio sizes: the token, the savepoint (BEGIN
    outside a test), the engagement in sight held with its client's past experiences, the
    default version and the new id, the insert (the event, the plan's row and the
    standing riding in it), the release (COMMIT)."""
    for _ in range(portfolio):
        other = EngagementFactory(client=ClientFactory(owner=manager_a))
        assessment_import(
            engagement=other,
            by=manager_a,
            answers=[AnswerInput(**item) for item in answers_of(version, 2)],
        )
    engagement = with_past_experiences(EngagementFactory(client=ClientFactory(owner=manager_a)))
    _token, raw = api_token_issue(user=manager_a, name="CRM")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/me/").status_code == 200  # a new token's first use is noted
    body = {"engagement": engagement.pk, "answers": answers_of(version)}
    with django_assert_num_queries(5):
        response = api.post(URL, body, format="json")
    assert response.status_code == 201


def test_the_orm_path_stores_what_the_single_statement_stores(
    manager_a, monkeypatch, version, count_queries
):
    """Other databases (SQLite, the embedded default) write through the ORM."""
    from assessments.services import imports as module

    states = []
    for vendor in ("postgresql", "other"):
        if vendor != "postgresql":
            monkeypatch.setattr(module.connection, "vendor", vendor)
        engagement = with_past_experiences(EngagementFactory(client=ClientFactory(owner=manager_a)))
        with count_queries() as captured:
            imported = assessment_import(
                engagement=engagement,
                by=manager_a,
                answers=[AnswerInput(**item) for item in answers_of(version)],
            )
        inserted_at_once = any("WITH held AS" in sql for sql in captured.sql)
        assert inserted_at_once is (vendor == "postgresql")
        states.append(
            (
                stored_state(imported),
                list(
                    Answer.objects.filter(assessment=imported)
                    .order_by("question_id")
                    .values_list("question_id", "value", "not_applicable", "na_reason", "note")
                ),
            )
        )
    assert states[0] == states[1]


def test_more_answers_than_an_import_takes_are_refused(as_a, engagement, version):
    from assessments.assessment_serializers import MAX_IMPORTED_ANSWERS

    first = next(iter(questions_by_id(version)))
    answers = [{"question": first, "value": 3}] * (MAX_IMPORTED_ANSWERS + 1)
    response = as_a.post(URL, {"engagement": engagement.pk, "answers": answers}, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("answers", "max_length")
    ]
    nothing_written()


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_the_engagement_is_read_with_its_past_experiences_as_the_two_reads_give_them(
    manager_a, a_client, b_client, monkeypatch, vendor, version, django_assert_num_queries
):
    from assessments.selectors import default_version
    from assessments.services import assessments as module
    from assessments.services.assessments import engagement_with_experiences, past_experiences
    from clients.selectors import engagement_visible

    if vendor != "postgresql":
        monkeypatch.setattr(module.connection, "vendor", vendor)
    experienced = with_past_experiences(EngagementFactory(client=a_client))
    bad_experiences(a_client, (4, date(2025, 1, 1)), (2, None))  # four, two ongoing
    fresh = EngagementFactory(client=ClientFactory(owner=manager_a))  # none
    for engagement in (experienced, fresh):
        for with_version in (False, True):
            with django_assert_num_queries(1 if vendor == "postgresql" else 2):
                read, experiences, default, new_id = engagement_with_experiences(
                    engagement.pk, in_sight_of=manager_a, with_default_version=with_version
                )
                assert new_id is None  # not asked for
            expected = engagement_visible(manager_a, engagement.pk)
            assert expected is not None
            assert fields_of(read) == fields_of(expected)
            assert experiences == past_experiences(engagement.client_id)
            # Read in the statement on PostgreSQL; elsewhere left to version_to_start.
            if with_version and vendor == "postgresql":
                assert default is not None
                assert fields_of(default) == fields_of(default_version())
            else:
                assert default is None
    read_plainly = engagement_with_experiences(experienced.pk, in_sight_of=manager_a).engagement
    assert len(engagement_with_experiences(experienced.pk, in_sight_of=manager_a)[1]) == 4
    # An import's id, reserved in the same statement: one drawn, however many rows.
    reserved = [
        engagement_with_experiences(experienced.pk, in_sight_of=manager_a, reserving_id=True)
        for _ in range(2)
    ]
    assert [len(reading.experiences) for reading in reserved] == [4, 4]
    if vendor == "postgresql":
        first, second = (reading.new_id for reading in reserved)
        assert first is not None
        assert second == first + 1
        assert not Assessment.objects.filter(pk__in=[first, second]).exists()
    else:
        assert [reading.new_id for reading in reserved] == [None, None]
    # Held (in a transaction: tests/test_dashboards_concurrency.py shows the wait), the
    # same reading.
    from django.db import transaction

    with transaction.atomic():
        held = engagement_with_experiences(experienced.pk, in_sight_of=manager_a, holding=True)
    assert len(held.experiences) == 4
    assert fields_of(held.engagement) == fields_of(read_plainly)
    hidden = EngagementFactory(client=b_client)
    for pk in (hidden.pk, 999_999_999, 2**63):
        for with_version in (False, True):
            with pytest.raises(Engagement.DoesNotExist):
                engagement_with_experiences(
                    pk, in_sight_of=manager_a, with_default_version=with_version
                )
