"""The assessments API: start or resume, answers (one or many, all or nothing, stale writes
answered 409), submit, review; who sees and changes what; how many queries it costs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from api.services import api_token_issue
from assessments.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AssessmentTransition,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.selectors import questions_by_id
from assessments.services import (
    AnswerInput,
    AssessmentNotEditable,
    answers_save,
    assessment_review,
    assessment_start,
    assessment_submit,
    version_copy_to_draft,
    version_import,
    version_publish,
)
from education.models import EducationPlan
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    EngagementFactory,
    answer_everything,
    published_default_version,
)
from tests.questionnaire_documents import small_document

pytestmark = pytest.mark.django_db

MISSING_ID = 999_999_999


def url(pk: int | None = None, action: str | None = None) -> str:
    path = "/api/v1/assessments/"
    if pk is not None:
        path += f"{pk}/"
    if action is not None:
        path += f"{action}/"
    return path


def errors_of(response: Any, status: int = 400) -> list[dict[str, Any]]:
    assert response.status_code == status, response.content[:800]
    body = response.json()
    assert body["type"] == ("validation_error" if status == 400 else body["type"])
    assert set(body) == {"type", "detail", "errors"}
    return body["errors"]


def question(assessment: Assessment, type_: str, **filters: Any) -> Any:
    return next(
        q
        for q in questions_by_id(assessment.version).values()
        if q.type == type_ and all(getattr(q, k) == v for k, v in filters.items())
    )


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client)


@pytest.fixture
def assessment(engagement, manager_a):
    return assessment_start(engagement=engagement, by=manager_a)[0]


@pytest.fixture
def as_b(manager_b) -> APIClient:
    api = APIClient()
    api.force_login(manager_b)
    return api


@pytest.fixture
def as_director(director) -> APIClient:
    api = APIClient()
    api.force_login(director)
    return api


@pytest.fixture
def submitted(assessment, manager_a):
    answer_everything(assessment)
    return assessment_submit(assessment=assessment, by=manager_a)


# --- Start or resume ------------------------------------------------------------------------


def test_starting_creates_a_draft_on_the_current_default_version(as_a, engagement, manager_a):
    response = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assessment = Assessment.objects.get()
    assert body["id"] == assessment.pk
    assert body["engagement"] == engagement.pk
    assert body["client"] == engagement.client_id
    assert body["questionnaire_version"] == published_default_version().pk
    assert body["assessor"] == manager_a.pk
    assert body["status"] == "draft"
    assert body["submitted_at"] is None
    assert body["result"] is None
    assert body["answers"] == []
    [start] = body["transitions"]
    assert (start["from_status"], start["to_status"], start["by"]) == (None, "draft", manager_a.pk)


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_a_new_draft_is_answered_as_written_and_reads_back_the_same(
    as_a, engagement, monkeypatch, vendor, count_queries
):
    """A new draft is shown from what was written (no read-back): exactly what a GET
    shows, on PostgreSQL (one statement) and on the other databases (the ORM)."""
    from assessments.services import assessments as module

    if vendor != "postgresql":
        monkeypatch.setattr(module.connection, "vendor", vendor)
    with count_queries() as captured:
        response = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    assert response.status_code == 201
    on_postgresql = vendor == "postgresql"
    assert any(sql.startswith("WITH engagement AS") for sql in captured.sql) is on_postgresql
    # There, the engagement (in sight) and the default version are read by the insert's
    # statement: the session's read and the insert are all.
    assert (len(captured.sql) == 2) is on_postgresql, captured.sql
    assert response.json() == as_a.get(url(response.json()["id"])).json()


# What a new assessment (a start, an import) is refused with while nothing is published.
NOTHING_PUBLISHED = [
    {
        "field": "questionnaire_version",
        "code": "invalid",
        "message": "No questionnaire is published yet.",
    }
]


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_without_a_published_version_a_start_is_refused_unless_a_draft_is_open(
    as_a, engagement, monkeypatch, vendor
):
    from assessments.services import assessments as module

    if vendor != "postgresql":
        monkeypatch.setattr(module.connection, "vendor", vendor)
    first = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    assert first.status_code == 201
    QuestionnaireVersion.objects.update(status=VersionStatus.RETIRED)
    again = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])  # resumed
    Assessment.objects.all().delete()
    refused = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == NOTHING_PUBLISHED
    assert not Assessment.objects.exists()


def test_a_start_takes_the_newest_published_version_of_the_default_questionnaire(
    as_a, engagement, director
):
    current = published_default_version()
    newer = version_copy_to_draft(version=current, by=director)
    version_publish(version=newer, by=director)
    response = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["questionnaire_version"] == newer.pk != current.pk


def test_starting_again_resumes_the_open_draft_with_200(as_a, engagement):
    first = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    again = as_a.post(url(), {"engagement": engagement.pk}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    # The engagement was named by its id alone (the insert checked its sight): the
    # resumed draft is shown with its client all the same.
    assert again.json() == as_a.get(url(first.json()["id"])).json()
    assert again.json()["client"] == engagement.client_id
    assert Assessment.objects.count() == 1
    assert AssessmentTransition.objects.count() == 1


def test_starting_on_another_published_version(as_a, engagement, director):
    other = version_import(document=small_document("other-questionnaire"), by=director)
    version_publish(version=other, by=director)
    response = as_a.post(
        url(), {"engagement": engagement.pk, "questionnaire_version": other.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["questionnaire_version"] == other.pk
    assert Assessment.objects.get().version_id == other.pk


def test_a_draft_questionnaire_version_is_refused(as_a, engagement, director):
    draft = version_copy_to_draft(version=published_default_version(), by=director)
    response = as_a.post(
        url(), {"engagement": engagement.pk, "questionnaire_version": draft.pk}, format="json"
    )
    [error] = errors_of(response)
    assert error["field"] == "questionnaire_version"
    assert error["message"] == "Only a published questionnaire version can be used."
    assert not Assessment.objects.exists()


def test_a_team_member_and_a_director_start_on_a_clients_engagement_they_see(
    a_client, manager_b, director
):
    """The insert's sight check, compiled once per kind of user, is run for each user:
    a team member of the client and a director start, the owner of another does not."""
    engagement = EngagementFactory(client=a_client)
    member = AccountManagerFactory()
    a_client.team_members.add(member)
    outcomes = {}
    for name, user in {"member": member, "director": director, "stranger": manager_b}.items():
        api = APIClient()
        api.force_login(user)
        outcomes[name] = api.post(url(), {"engagement": engagement.pk}, format="json").status_code
    assert outcomes == {"member": 201, "director": 201, "stranger": 400}
    assert set(Assessment.objects.values_list("assessor", flat=True)) == {member.pk, director.pk}


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
@pytest.mark.parametrize("sent_as", ["json", "multipart"])
def test_starting_on_another_managers_engagement_fails_like_one_that_does_not_exist(
    as_a, b_client, monkeypatch, vendor, sent_as
):
    """The insert's statement checks the sight (on PostgreSQL, an id sent as a JSON
    number), the serializer otherwise: the same error either way."""
    from assessments.services import assessments as module

    if vendor != "postgresql":
        monkeypatch.setattr(module.connection, "vendor", vendor)
    hidden = EngagementFactory(client=b_client)
    [hidden_error] = errors_of(as_a.post(url(), {"engagement": hidden.pk}, format=sent_as))
    [missing_error] = errors_of(as_a.post(url(), {"engagement": MISSING_ID}, format=sent_as))
    [beyond_error] = errors_of(as_a.post(url(), {"engagement": 2**63}, format=sent_as))
    assert beyond_error["code"] == "does_not_exist"
    assert hidden_error["field"] == missing_error["field"] == "engagement"
    assert hidden_error["code"] == missing_error["code"] == "does_not_exist"
    assert hidden_error["message"].replace(str(hidden.pk), "ID") == missing_error[
        "message"
    ].replace(str(MISSING_ID), "ID")
    assert b_client.name not in str(hidden_error)
    assert not Assessment.objects.exists()


# --- Reading --------------------------------------------------------------------------------


def test_the_detail_shows_answers_with_their_code_and_revision(as_a, assessment, manager_a):
    scale = question(assessment, "scale")
    answers_save(
        assessment=assessment, by=manager_a, answers=[AnswerInput(scale.pk, 3, note="Seen.")]
    )
    body = as_a.get(url(assessment.pk)).json()
    assert body["answers"] == [
        {
            "question": scale.pk,
            "code": scale.code,
            "value": 3,
            "not_applicable": False,
            "na_reason": "",
            "note": "Seen.",
            "revision": 1,
        }
    ]


def test_the_list_filters_by_engagement_client_status_and_assessor(
    as_a, manager_a, a_client, assessment, submitted
):
    other_engagement = EngagementFactory(client=ClientFactory(owner=manager_a))
    other = assessment_start(engagement=other_engagement, by=manager_a)[0]
    teammate = AccountManagerFactory()
    a_client.team_members.add(teammate)
    theirs = assessment_start(engagement=assessment.engagement, by=teammate)[0]

    def ids(**query: Any) -> set[int]:
        response = as_a.get(url(), query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {assessment.pk, other.pk, theirs.pk}
    assert ids(engagement=other_engagement.pk) == {other.pk}
    assert ids(client=a_client.pk) == {assessment.pk, theirs.pk}
    assert ids(status="submitted") == {assessment.pk}
    assert ids(assessor=teammate.pk) == {theirs.pk}


def test_filtering_by_another_managers_engagement_fails_like_one_that_does_not_exist(
    as_a, b_client
):
    hidden = EngagementFactory(client=b_client)
    [hidden_error] = errors_of(as_a.get(url(), {"engagement": hidden.pk}))
    [missing_error] = errors_of(as_a.get(url(), {"engagement": MISSING_ID}))
    assert hidden_error == missing_error
    assert hidden_error["field"] == "engagement"


def test_the_list_and_the_detail_show_the_result_of_a_submitted_assessment(as_a, submitted):
    [row] = as_a.get(url()).json()["results"]
    assert "answers" not in row
    assert row["result"]["maturity_level"] == submitted.maturity_level
    assert len(row["result"]["dimension_scores"]) == 10


# --- Answers --------------------------------------------------------------------------------


def test_saving_one_answer(as_a, assessment):
    scale = question(assessment, "scale")
    response = as_a.post(
        url(assessment.pk, "answers"), {"question": scale.pk, "value": 4}, format="json"
    )
    assert response.status_code == 200, response.content
    [saved] = response.json()
    assert (saved["question"], saved["code"], saved["value"], saved["revision"]) == (
        scale.pk,
        scale.code,
        4,
        1,
    )
    assert Answer.objects.get(assessment=assessment, question=scale).value == 4


def test_saving_a_list_of_answers_and_changing_one_with_its_revision(as_a, assessment):
    scale = question(assessment, "scale")
    choice = question(assessment, "choice")
    na = question(assessment, "scale", allow_na=True)
    first = as_a.post(
        url(assessment.pk, "answers"),
        [
            {"question": scale.pk, "value": 2, "note": "From the kick-off."},
            {"question": choice.pk, "value": choice.options[0]["code"]},
            {"question": na.pk, "not_applicable": True, "na_reason": "Back office only."},
        ],
        format="json",
    )
    assert first.status_code == 200, first.content
    assert [(a["question"], a["revision"]) for a in first.json()] == [
        (scale.pk, 1),
        (choice.pk, 1),
        (na.pk, 1),
    ]
    second = as_a.post(
        url(assessment.pk, "answers"),
        [{"question": scale.pk, "value": 5, "revision": 1}],
        format="json",
    )
    assert second.status_code == 200, second.content
    assert second.json()[0]["revision"] == 2
    stored = Answer.objects.get(assessment=assessment, question=scale)
    # The note was not sent with the change: the stored one is kept.
    assert (stored.value, stored.revision, stored.note) == (5, 2, "From the kick-off.")
    assert Answer.objects.get(assessment=assessment, question=na).na_reason == "Back office only."


def test_bad_answers_get_one_error_each_and_nothing_of_the_request_is_stored(as_a, assessment):
    scale = question(assessment, "scale")
    other_scale = question(assessment, "scale", allow_na=False, code="pk-2")
    na = question(assessment, "scale", allow_na=True)
    number = question(assessment, "number")
    response = as_a.post(
        url(assessment.pk, "answers"),
        [
            {"question": scale.pk, "value": 3},  # fine on its own
            {"question": other_scale.pk, "value": 9},
            {"question": MISSING_ID, "value": 1},
            {"question": na.pk, "not_applicable": True},
            {"question": number.pk, "value": (number.max_value or 0) + 1},
        ],
        format="json",
    )
    errors = errors_of(response)
    assert [(e["field"], e["code"]) for e in errors] == [
        ("1.value", "invalid"),
        ("2.question", "unknown_question"),
        ("3.na_reason", "invalid"),
        ("4.value", "invalid"),
    ]
    assert errors[0]["message"] == "Choose a level from 1 to 5."
    assert errors[2]["message"] == "Say why this question does not apply."
    assert all("current" not in e for e in errors)
    assert Answer.objects.count() == 0


def test_malformed_answers_are_refused_before_the_service_with_indexed_fields(as_a, assessment):
    scale = question(assessment, "scale")
    response = as_a.post(
        url(assessment.pk, "answers"),
        [{"question": scale.pk, "value": 3}, {"value": 3}, {"question": scale.pk, "revision": -1}],
        format="json",
    )
    errors = errors_of(response)
    assert [(e["field"], e["code"]) for e in errors] == [
        ("1.question", "required"),
        ("2.revision", "min_value"),
    ]
    assert Answer.objects.count() == 0


def test_a_single_bad_answer_names_the_field_without_an_index(as_a, assessment):
    scale = question(assessment, "scale")
    response = as_a.post(
        url(assessment.pk, "answers"), {"question": scale.pk, "value": 0}, format="json"
    )
    [error] = errors_of(response)
    assert (error["field"], error["code"]) == ("value", "invalid")
    assert not Answer.objects.exists()


@pytest.mark.parametrize("body", [[], 3, "answer"])
def test_an_empty_or_shapeless_body_is_refused(as_a, assessment, body):
    response = as_a.post(url(assessment.pk, "answers"), body, format="json")
    assert len(errors_of(response)) == 1


def test_a_stale_write_gets_409_with_the_current_answer_and_changes_nothing(
    as_a, assessment, manager_a
):
    scale = question(assessment, "scale")
    answers_url = url(assessment.pk, "answers")
    assert (
        as_a.post(answers_url, {"question": scale.pk, "value": 3}, format="json").json()[0][
            "revision"
        ]
        == 1
    )
    # Two tabs both loaded revision 1; the first saves, the second is refused.
    first = as_a.post(
        answers_url,
        {"question": scale.pk, "value": 4, "note": "Tab 1", "revision": 1},
        format="json",
    )
    assert first.status_code == 200, first.content
    second = as_a.post(
        answers_url, {"question": scale.pk, "value": 2, "revision": 1}, format="json"
    )
    [error] = errors_of(second, status=409)
    assert second.json()["type"] == "conflict"
    assert (error["field"], error["code"]) == ("revision", "stale")
    assert error["current"] == {
        "value": 4,
        "not_applicable": False,
        "na_reason": "",
        "note": "Tab 1",
        "revision": 2,
    }
    stored = Answer.objects.get(assessment=assessment, question=scale)
    assert (stored.value, stored.revision) == (4, 2)


@pytest.mark.parametrize("revision", [2**31, 2**40, 10**20])
def test_a_revision_no_answer_can_have_is_a_stale_write_not_a_500(as_a, assessment, revision):
    """The revision column is an integer: one beyond it is stale, for a stored answer
    and for a new one alike."""
    scale, other = [q for q in questions_by_id(assessment.version).values() if q.type == "scale"][
        :2
    ]
    answers = f"{url(assessment.pk)}answers/"
    assert as_a.post(answers, {"question": scale.pk, "value": 2}, format="json").status_code == 200
    for target in (scale, other):
        sent = {"question": target.pk, "value": 4, "revision": revision}
        response = as_a.post(answers, sent, format="json")
        assert response.status_code == 409, response.content
    assert Answer.objects.get(assessment=assessment, question=scale).value == 2
    assert not Answer.objects.filter(assessment=assessment, question=other).exists()


def test_a_stale_write_in_a_list_stores_none_of_the_list(as_a, assessment, manager_a):
    scale = question(assessment, "scale")
    choice = question(assessment, "choice")
    answers_save(assessment=assessment, by=manager_a, answers=[AnswerInput(scale.pk, 3)])
    response = as_a.post(
        url(assessment.pk, "answers"),
        [
            {"question": choice.pk, "value": choice.options[0]["code"]},
            {"question": scale.pk, "value": 5},  # no revision: it was answered meanwhile
        ],
        format="json",
    )
    [error] = errors_of(response, status=409)
    assert (error["field"], error["current"]["value"]) == ("1.revision", 3)
    assert list(Answer.objects.values_list("question_id", flat=True)) == [scale.pk]


def test_a_stale_write_mixed_with_an_invalid_answer_is_a_400_that_lists_both(
    as_a, assessment, manager_a
):
    scale = question(assessment, "scale")
    other = question(assessment, "scale", code="pk-2")
    answers_save(assessment=assessment, by=manager_a, answers=[AnswerInput(scale.pk, 3)])
    response = as_a.post(
        url(assessment.pk, "answers"),
        [{"question": scale.pk, "value": 5}, {"question": other.pk, "value": 7}],
        format="json",
    )
    errors = errors_of(response)
    assert [(e["field"], e["code"]) for e in errors] == [
        ("0.revision", "stale"),
        ("1.value", "invalid"),
    ]
    assert errors[0]["current"]["revision"] == 1


def test_answering_a_submitted_assessment_is_refused(as_a, submitted):
    scale = question(submitted, "scale")
    response = as_a.post(
        url(submitted.pk, "answers"),
        {"question": scale.pk, "value": 1, "revision": 1},
        format="json",
    )
    [error] = errors_of(response)
    assert error["code"] == "not_editable"
    assert error["message"] == AssessmentNotEditable().message
    assert Answer.objects.get(assessment=submitted, question=scale).value == 4


def test_a_team_member_reads_but_cannot_answer_or_submit(assessment, a_client):
    teammate = AccountManagerFactory()
    a_client.team_members.add(teammate)
    api = APIClient()
    api.force_login(teammate)
    assert api.get(url(assessment.pk)).status_code == 200
    scale = question(assessment, "scale")
    response = api.post(
        url(assessment.pk, "answers"), {"question": scale.pk, "value": 3}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["type"] == "permission_denied"
    assert api.post(url(assessment.pk, "submit")).status_code == 403
    assert not Answer.objects.exists()


def test_a_director_may_correct_an_answer(as_director, assessment):
    scale = question(assessment, "scale")
    response = as_director.post(
        url(assessment.pk, "answers"), {"question": scale.pk, "value": 2}, format="json"
    )
    assert response.status_code == 200, response.content


# --- Submit ---------------------------------------------------------------------------------


def test_submitting_with_missing_answers_lists_each_missing_question_first_one_first(
    as_a, assessment, manager_a
):
    questions = list(questions_by_id(assessment.version).values())
    answered = [q for q in questions if q.type == "scale"][:3]
    answers_save(
        assessment=assessment,
        by=manager_a,
        answers=[AnswerInput(q.pk, 3) for q in answered],
    )
    missing = [q for q in questions if q.required and q not in answered]
    errors = errors_of(as_a.post(url(assessment.pk, "submit")))
    assert len(errors) == len(missing)
    assert {e["field"] for e in errors} == {"answers"}
    assert [e["message"] for e in errors] == [
        f"Question {q.code} is not answered yet." for q in missing
    ]
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT


def test_submitting_returns_the_result_with_the_ten_dimensions(as_a, assessment, manager_a):
    answer_everything(assessment)
    response = as_a.post(url(assessment.pk, "submit"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "submitted"
    assert body["submitted_at"]
    result = body["result"]
    assert set(result) == {
        "maturity_score",
        "maturity_level",
        "defensiveness_index",
        "quadrant",
        "completeness",
        "dimension_scores",
    }
    assert 0 <= result["maturity_score"] <= 100
    assert result["maturity_level"] in range(1, 6)
    assert result["completeness"] == pytest.approx(100.0)
    scores = result["dimension_scores"]
    assert len(scores) == 10
    assert {s["kind"] for s in scores} == {"maturity", "defensiveness"}
    assert scores[0]["code"] == "process-knowledge"
    assert scores[0]["name"] == "Knowledge of the outsourced process"
    assert [t["to_status"] for t in body["transitions"]] == ["draft", "submitted"]
    assert len(body["answers"]) == 48


def test_dimension_names_follow_the_callers_language(api, manager_a, submitted):
    manager_a.language = "pt-br"
    manager_a.save(update_fields=["language"])
    api.force_login(manager_a)
    scores = api.get(url(submitted.pk)).json()["result"]["dimension_scores"]
    assert scores[0]["name"] == "Conhecimento do processo terceirizado"


def test_a_retried_submit_answers_200_with_the_result_and_changes_nothing(as_a, submitted):
    # The first submit committed but its answer was lost; the client tries again.
    before = as_a.get(url(submitted.pk)).json()
    response = as_a.post(url(submitted.pk, "submit"))
    assert response.status_code == 200
    assert response.json() == before
    assert response.json()["result"]["maturity_level"] == submitted.maturity_level
    assert EducationPlan.objects.filter(assessment=submitted).count() == 1
    assert submitted.transitions.filter(to_status=AssessmentStatus.SUBMITTED).count() == 1


def test_a_retried_submit_of_an_approved_assessment_answers_200(as_a, submitted, director):
    assessment_review(assessment=submitted, by=director, approve=True)
    response = as_a.post(url(submitted.pk, "submit"))
    assert response.status_code == 200
    assert response.json()["status"] == AssessmentStatus.APPROVED


# --- Review ---------------------------------------------------------------------------------


def test_a_director_approves(as_director, submitted, director):
    response = as_director.post(url(submitted.pk, "review"), {"decision": "approve"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["reviewed_at"]
    assert body["transitions"][-1]["by"] == director.pk


def test_returning_needs_a_comment(as_director, submitted):
    [error] = errors_of(
        as_director.post(
            url(submitted.pk, "review"), {"decision": "return", "comment": "  "}, format="json"
        )
    )
    assert error["field"] == "comment"
    response = as_director.post(
        url(submitted.pk, "review"),
        {"decision": "return", "comment": "pk-2 looks too high."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "returned"
    assert body["transitions"][-1]["comment"] == "pk-2 looks too high."
    # Returned: the assessor may change answers again.
    submitted.refresh_from_db()
    assert submitted.is_editable


def test_a_decision_must_be_approve_or_return(as_director, submitted):
    [error] = errors_of(
        as_director.post(url(submitted.pk, "review"), {"decision": "maybe"}, format="json")
    )
    assert (error["field"], error["code"]) == ("decision", "invalid_choice")


def test_reviewing_a_draft_is_refused(as_director, assessment):
    [error] = errors_of(
        as_director.post(url(assessment.pk, "review"), {"decision": "approve"}, format="json")
    )
    assert error["code"] == "not_submitted"


def test_only_directors_review(as_a, submitted):
    response = as_a.post(url(submitted.pk, "review"), {"decision": "approve"}, format="json")
    assert response.status_code == 403
    assert response.json()["type"] == "permission_denied"
    submitted.refresh_from_db()
    assert submitted.status == AssessmentStatus.SUBMITTED


# --- Scope, tokens, methods -----------------------------------------------------------------


def test_another_manager_gets_404_for_everything_on_an_assessment(as_b, assessment, a_client):
    scale = question(assessment, "scale")
    responses = [
        as_b.get(url(assessment.pk)),
        as_b.post(url(assessment.pk, "answers"), {"question": scale.pk, "value": 3}, format="json"),
        as_b.post(url(assessment.pk, "submit")),
    ]
    for response in responses:
        assert response.status_code == 404
        assert response.json()["type"] == "not_found"
        assert a_client.name not in response.content.decode()
    assert as_b.get(url()).json()["results"] == []
    assert not Answer.objects.exists()
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT


def test_a_director_sees_every_assessment(as_director, assessment):
    assert [row["id"] for row in as_director.get(url()).json()["results"]] == [assessment.pk]


def test_a_read_only_token_reads_but_cannot_write(api, manager_a, engagement, assessment):
    _, raw = api_token_issue(user=manager_a, name="bi", read_only=True)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(url()).status_code == 200
    assert api.get(url(assessment.pk)).status_code == 200
    scale = question(assessment, "scale")
    writes = [
        api.post(url(), {"engagement": engagement.pk}, format="json"),
        api.post(url(assessment.pk, "answers"), {"question": scale.pk, "value": 3}, format="json"),
        api.post(url(assessment.pk, "submit")),
    ]
    for response in writes:
        assert response.status_code == 403
        assert response.json()["type"] == "permission_denied"
    assert not Answer.objects.exists()


def test_a_full_token_writes(api, manager_a, assessment):
    _, raw = api_token_issue(user=manager_a, name="crm")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    scale = question(assessment, "scale")
    response = api.post(
        url(assessment.pk, "answers"), {"question": scale.pk, "value": 3}, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_assessments_cannot_be_replaced_changed_or_deleted(as_a, assessment, method):
    response = getattr(as_a, method)(url(assessment.pk), {"status": "approved"}, format="json")
    assert response.status_code == 405
    assert response.json()["type"] == "method_not_allowed"
    assert Assessment.objects.filter(pk=assessment.pk, status=AssessmentStatus.DRAFT).exists()


def test_anonymous_callers_get_401(api, assessment):
    assert api.get(url()).status_code == 401
    assert api.get(url(assessment.pk)).status_code == 401


# --- Query counts ---------------------------------------------------------------------------


def queries_to_read(count_queries, api: APIClient, path: str, **query: Any) -> tuple[int, Any]:
    with count_queries() as captured:
        response = api.get(path, query)
    assert response.status_code == 200, response.content
    return captured.count, response.json()


def test_the_detail_costs_the_same_queries_for_5_and_48_answers(as_a, manager_a, count_queries):
    few = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager_a)), by=manager_a
    )[0]
    scales = [q for q in questions_by_id(few.version).values() if q.type == "scale"][:5]
    answers_save(assessment=few, by=manager_a, answers=[AnswerInput(q.pk, 3) for q in scales])
    many = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager_a)), by=manager_a
    )[0]
    answer_everything(many)
    assessment_submit(assessment=many, by=manager_a)

    with_5, body_5 = queries_to_read(count_queries, as_a, url(few.pk))
    with_48, body_48 = queries_to_read(count_queries, as_a, url(many.pk))
    assert (len(body_5["answers"]), len(body_48["answers"])) == (5, 48)
    assert len(body_48["result"]["dimension_scores"]) == 10
    assert with_5 == with_48


def test_the_list_costs_the_same_queries_for_5_and_50_assessments(as_a, manager_a, count_queries):
    def add(count: int, submit: int) -> None:
        for index in range(count):
            engagement = EngagementFactory(client=ClientFactory(owner=manager_a))
            assessment = assessment_start(engagement=engagement, by=manager_a)[0]
            if index < submit:
                answer_everything(assessment)
                assessment_submit(assessment=assessment, by=manager_a)

    add(5, submit=1)
    with_5, body_5 = queries_to_read(count_queries, as_a, url(), page_size=100)
    add(45, submit=2)
    with_50, body_50 = queries_to_read(count_queries, as_a, url(), page_size=100)
    assert (len(body_5["results"]), len(body_50["results"])) == (5, 50)
    assert with_5 == with_50


def test_a_note_sent_empty_clears_it_and_a_nul_character_is_refused(as_a, assessment):
    scale = question(assessment, "scale")
    as_a.post(
        url(assessment.pk, "answers"),
        {"question": scale.pk, "value": 2, "note": "x"},
        format="json",
    )
    cleared = as_a.post(
        url(assessment.pk, "answers"),
        {"question": scale.pk, "value": 2, "note": "", "revision": 1},
        format="json",
    )
    assert cleared.status_code == 200
    assert Answer.objects.get(question=scale).note == ""
    text = question(assessment, "text")
    refused = as_a.post(
        url(assessment.pk, "answers"), {"question": text.pk, "value": "a\u0000b"}, format="json"
    )
    assert refused.status_code == 400
    assert not Answer.objects.filter(question=text).exists()


@pytest.mark.parametrize("path", ["answers", "import"])
def test_a_broken_character_in_a_text_answer_is_a_400_not_a_500(as_a, assessment, path):
    text = question(assessment, "text")
    if path == "answers":
        response = as_a.post(
            url(assessment.pk, "answers"),
            json.dumps({"question": text.pk, "value": "a\ud800b"}),  # sent as \ud800
            content_type="application/json",
        )
        field = "value"
    else:
        response = as_a.post(
            "/api/v1/assessments/import/",
            json.dumps(
                {
                    "engagement": assessment.engagement_id,
                    "answers": [{"question": text.pk, "value": "a\ud800b"}],
                }
            ),
            content_type="application/json",
        )
        field = "answers.0.value"
    assert response.status_code == 400, response.content[:300]
    assert {(e["field"], e["message"]) for e in response.json()["errors"]} == {
        (field, "Remove the broken character from the text.")
    }
    assert not Answer.objects.filter(question=text).exists()


def test_returning_an_assessment_beside_the_assessors_open_draft_is_refused_clearly(
    as_director, manager_a, engagement
):
    """An imported assessment, submitted, while its assessor has a draft open on the same
    engagement: returned, it would be a second open one."""
    from assessments.services import AnswerInput, assessment_import

    draft = assessment_start(engagement=engagement, by=manager_a)[0]
    answers = [
        AnswerInput(question=q.pk, value=v)
        for q, v in (
            (q, {"scale": 3, "choice": q.options[0]["code"] if q.options else None,
                 "yes_no": True, "number": q.min_value, "text": "ok"}[q.type])
            for q in questions_by_id(draft.version).values()
        )
    ]  # fmt: skip
    imported = assessment_import(engagement=engagement, by=manager_a, answers=answers)
    response = as_director.post(
        url(imported.pk, "review"), {"decision": "return", "comment": "Check pk-2."}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert "already has an open assessment" in response.json()["errors"][0]["message"]
    imported.refresh_from_db()
    assert imported.status == AssessmentStatus.SUBMITTED
    assert not AssessmentTransition.objects.filter(
        assessment=imported, to_status=AssessmentStatus.RETURNED
    ).exists()
