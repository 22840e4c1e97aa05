"""The fill page and its autosave at the cost of their work (issue 19): how many statements
each costs, the same for a small and a larger portfolio, and the one-statement autosave
refusing exactly what the long way refuses, with nothing written when it does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Answer, Assessment, AssessmentStatus
from assessments.selectors import questions_by_id
from assessments.services import assessment_review, assessment_start
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EngagementFactory,
    answer_everything,
    submitted_assessment,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager():
    return AccountManagerFactory()


@pytest.fixture
def assessment(manager):
    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    return assessment_start(engagement=engagement, by=manager)[0]


def portfolio(size: int, manager) -> None:
    """``size`` other clients, each with a submitted assessment; one in three is the
    manager's own, the rest are on other managers' desks (the access check must not grow
    with either)."""
    others = [AccountManagerFactory() for _ in range(3)]
    for index in range(size):
        owner = manager if index % 3 == 0 else others[index % 3]
        client = ClientFactory(owner=owner)
        if index % 4 == 0:
            client.team_members.add(others[0])
        submitted_assessment(EngagementFactory(client=client), by=owner)


def questions_of(assessment, kind: str = "scale"):
    return [q for q in questions_by_id(assessment.version).values() if q.type == kind]


def save(client, assessment, question, **data):
    data.setdefault("revision", "0")
    return client.post(
        reverse("assessments:answer", args=[assessment.pk, question.pk]), data, **HTMX
    )


@pytest.mark.parametrize("size", [2, 24])
def test_an_autosave_and_the_fill_page_cost_the_same_few_statements_at_any_portfolio_size(
    client, manager, assessment, size, count_queries
):
    portfolio(size, manager)
    client.force_login(manager)
    first, second = questions_of(assessment)[:2]
    fill = reverse("assessments:fill", args=[assessment.pk])
    client.get(fill)  # the session's first request; what follows is the everyday case

    with count_queries() as page:
        assert client.get(fill, {"section": first.dimension.code}).status_code == 200
    with count_queries() as new_answer:
        assert save(client, assessment, first, value="3").status_code == 200
    with count_queries() as changed_answer:
        assert save(client, assessment, first, value="4", revision="1").status_code == 200
    with count_queries() as other_answer:
        response = save(client, assessment, second, value="2", note="seen in the audit")
    assert "2 of 48 answered" in response.content.decode()

    assert page.count <= 6, page.sql
    for autosave in (new_answer, changed_answer, other_answer):
        assert autosave.count <= 5, autosave.sql
    # The same at both sizes: nothing here reads the portfolio.
    # The session brings its user in the same statement: an autosave is that read and
    # its one write.
    assert (page.count, new_answer.count, changed_answer.count) == (4, 2, 2)
    stored = {a.question_id: (a.value, a.revision, a.note) for a in Answer.objects.all()}
    assert stored[first.pk] == (4, 2, "")
    assert stored[second.pk] == (2, 1, "seen in the audit")


def test_the_progress_an_autosave_draws_is_what_a_recount_finds(client, manager, assessment):
    client.force_login(manager)
    scale = questions_of(assessment)
    optional = next(q for q in questions_by_id(assessment.version).values() if q.allow_na)
    save(client, assessment, scale[0], value="3")
    save(client, assessment, scale[1], value="1")
    body = save(
        client, assessment, optional, not_applicable="on", na_reason="No collections here"
    ).content.decode()
    assert "3 of 48 answered" in body
    # Clearing an answer takes it out of the count, in the bar and in its section.
    body = save(client, assessment, scale[1], value="", revision="1").content.decode()
    assert "2 of 48 answered" in body
    answered_here = sum(
        1
        for a in Answer.objects.filter(question__dimension=scale[1].dimension)
        if Answer.counts(a.value, a.not_applicable)
    )
    total_here = sum(1 for q in questions_by_id(assessment.version).values()
                     if q.dimension_id == scale[1].dimension_id)  # fmt: skip
    assert f'id="section-count-{scale[1].dimension_id}"' in body
    assert f">{answered_here}/{total_here}<" in body
    na = Answer.objects.get(question=optional)
    assert (na.not_applicable, na.value, na.na_reason) == (True, None, "No collections here")


def test_a_stale_save_is_refused_and_touches_nothing(client, manager, assessment):
    client.force_login(manager)
    question = questions_of(assessment)[0]
    save(client, assessment, question, value="4")
    before = Assessment.objects.get(pk=assessment.pk).updated_at
    response = save(client, assessment, question, value="1", revision="0")  # a second tab
    assert response.status_code == 409
    assert "Someone else changed this answer" in response.content.decode()
    answer = Answer.objects.get(question=question)
    assert (answer.value, answer.revision) == (4, 1)
    assert Assessment.objects.get(pk=assessment.pk).updated_at == before


def test_a_save_out_of_sight_is_404_and_one_by_a_teammate_403_with_nothing_written(
    client, manager, assessment
):
    question = questions_of(assessment)[0]
    before = Assessment.objects.get(pk=assessment.pk).updated_at
    stranger, teammate = AccountManagerFactory(), AccountManagerFactory()
    assessment.engagement.client.team_members.add(teammate)

    client.force_login(stranger)
    assert save(client, assessment, question, value="3").status_code == 404
    client.force_login(teammate)  # sees the assessment, but only its assessor fills it
    assert save(client, assessment, question, value="3").status_code == 403

    assert not Answer.objects.exists()
    assert Assessment.objects.get(pk=assessment.pk).updated_at == before


def test_a_director_corrects_an_answer_of_a_managers_assessment(client, manager, assessment):
    director = DirectorFactory()
    question = questions_of(assessment)[0]
    client.force_login(director)
    with_director = save(client, assessment, question, value="5")
    assert with_director.status_code == 200
    answer = Answer.objects.get(question=question)
    assert (answer.value, answer.updated_by_id) == (5, director.pk)


def test_once_submitted_a_save_is_refused_and_a_returned_assessment_takes_saves_again(
    client, manager, assessment
):
    client.force_login(manager)
    question = questions_of(assessment)[0]
    answer_everything(assessment, level=3)
    revision = Answer.objects.get(question=question).revision
    client.post(reverse("assessments:submit", args=[assessment.pk]))
    refused = save(client, assessment, question, value="1", revision=str(revision))
    assert refused.status_code == 422
    assert Answer.objects.get(question=question).value == 3

    assessment.refresh_from_db()
    assessment_review(
        assessment=assessment, by=DirectorFactory(), approve=False, comment="Check the SLA"
    )
    assert Assessment.objects.get(pk=assessment.pk).status == AssessmentStatus.RETURNED
    accepted = save(client, assessment, question, value="1", revision=str(revision))
    assert accepted.status_code == 200
    assert Answer.objects.get(question=question).value == 1


def test_an_invalid_value_is_refused_on_its_question_with_nothing_written(
    client, manager, assessment
):
    client.force_login(manager)
    question = questions_of(assessment)[0]
    before = Assessment.objects.get(pk=assessment.pk).updated_at
    response = save(client, assessment, question, value="9", note="keep me")
    assert response.status_code == 422
    assert f'id="status-{question.pk}" role="status" class="save-status save-failed"' in (
        response.content.decode()
    )
    assert not Answer.objects.exists()
    assert Assessment.objects.get(pk=assessment.pk).updated_at == before


def test_an_api_submit_runs_the_access_check_once(api, manager, assessment, count_queries):
    """The row is checked when the request names it; the service's lock and the answer's
    read-back do not check it again."""
    answer_everything(assessment, level=3)
    api.force_authenticate(manager)
    with count_queries() as submit:
        response = api.post(f"/api/v1/assessments/{assessment.pk}/submit/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == AssessmentStatus.SUBMITTED
    checks = [sql for sql in submit.sql if "clients_client_team_members" in sql]
    assert len(checks) == 1, checks


@pytest.mark.parametrize(
    ("language", "retrying", "missing"),
    [
        ("pt-br", "Ainda não salvo — nova tentativa em %s s.", "4 faltando"),
        ("es", "Aún no guardado — reintentando en %s s.", "faltan 4"),
    ],
)
def test_an_autosave_redraws_its_pieces_in_the_users_language(
    client, manager, assessment, language, retrying, missing
):
    """The pieces an autosave sends back are drawn without the template engine
    (assessments.fill_fragments), in the user's language like the page they replace:
    the script's retry message keeps its %s, counts are in words, ids are plain."""
    manager.language = language
    manager.save(update_fields=["language"])
    client.force_login(manager)
    first = questions_of(assessment)[0]
    body = save(client, assessment, first, value="3", missing="1").content.decode()
    assert f'data-failed="{retrying}' in body
    assert f'id="status-{first.pk}" role="status" class="save-status save-ok"' in body
    assert f'<span class="missing-count">{missing}</span>' in body  # 5 in the section, 1 answered
    assert f'id="revision-{first.pk}" value="1" hx-swap-oob="outerHTML"' in body
    page = client.get(reverse("assessments:fill", args=[assessment.pk]), {"missing": "1"})
    assert f'data-failed="{retrying}' in page.content.decode()
