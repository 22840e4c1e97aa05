"""The assessment pages: start/resume, autosave with stale-write refusal, submit,
result, review, and who may see what."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessments.models import Answer, Assessment, AssessmentStatus
from assessments.selectors import questions_by_id
from assessments.services import assessment_start, assessment_submit
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
def engagement(manager):
    return EngagementFactory(client=ClientFactory(owner=manager, name="Banco Sol"))


@pytest.fixture
def assessment(engagement, manager):
    return assessment_start(engagement=engagement, by=manager)[0]


def first_scale(assessment):
    return next(q for q in questions_by_id(assessment.version).values() if q.type == "scale")


def test_starting_from_the_client_page_opens_the_form_and_starting_again_resumes(
    client, manager, engagement
):
    client.force_login(manager)
    response = client.post(reverse("assessments:start", args=[engagement.pk]))
    assessment = Assessment.objects.get()
    assert response["Location"] == reverse("assessments:fill", args=[assessment.pk])
    client.post(reverse("assessments:start", args=[engagement.pk]))
    assert Assessment.objects.count() == 1
    page = client.get(reverse("assessments:fill", args=[assessment.pk])).content.decode()
    assert "0 of 48 answered" in page


def test_an_answer_is_saved_as_it_is_given_and_shown_after_a_reload(client, manager, assessment):
    question = first_scale(assessment)
    client.force_login(manager)
    url = reverse("assessments:answer", args=[assessment.pk, question.pk])
    response = client.post(
        url, {"value": "4", "revision": "0", "note": "Seen in the May review"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Saved" in body
    assert f'id="revision-{question.pk}" value="1"' in body
    assert "1 of 48 answered" in body
    answer = Answer.objects.get(question=question)
    assert (answer.value, answer.note) == (4, "Seen in the May review")
    page = client.get(
        reverse("assessments:fill", args=[assessment.pk]), {"section": question.dimension.code}
    )
    assert 'value="4" checked' in page.content.decode()


def test_a_stale_write_from_a_second_tab_is_refused_with_the_current_value(
    client, manager, assessment
):
    question = first_scale(assessment)
    client.force_login(manager)
    url = reverse("assessments:answer", args=[assessment.pk, question.pk])
    client.post(url, {"value": "4", "revision": "0"}, **HTMX)  # first tab
    response = client.post(url, {"value": "2", "revision": "0"}, **HTMX)  # second tab, stale
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else changed this answer" in body
    assert 'value="4" checked' in body  # the current value is shown
    assert Answer.objects.get(question=question).value == 4


def test_an_invalid_answer_is_refused_on_its_question_and_nothing_is_stored(
    client, manager, assessment
):
    question = next(q for q in questions_by_id(assessment.version).values() if q.type == "number")
    client.force_login(manager)
    url = reverse("assessments:answer", args=[assessment.pk, question.pk])
    response = client.post(url, {"value": "9999", "revision": "0"}, **HTMX)
    assert response.status_code == 422
    assert "Enter a number from" in response.content.decode()
    assert not Answer.objects.exists()


def test_submit_jumps_to_the_first_missing_question(client, manager, assessment):
    client.force_login(manager)
    response = client.post(reverse("assessments:submit", args=[assessment.pk]))
    first = next(iter(questions_by_id(assessment.version).values()))
    assert response["Location"].endswith(
        f"?section={first.dimension.code}&missing=1#question-{first.pk}"
    )
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT


def test_after_a_refusal_each_save_clears_its_mark_and_recounts(client, manager, assessment):
    """The refusal's marks follow the saves: the saved question loses its mark and the
    sticky bar counts one fewer, until it says the assessment can be submitted."""
    from assessments.models import Answer

    answer_everything(assessment, level=3)
    missing = first_scale(assessment)
    Answer.objects.filter(question=missing).delete()
    client.force_login(manager)
    page = client.get(
        reverse("assessments:fill", args=[assessment.pk]),
        {"section": missing.dimension.code, "missing": "1"},
    ).content.decode()
    assert "1 required question still needs an answer" in page
    assert f'id="missing-{missing.pk}" class="missing-note">Needed before submitting' in page
    assert page.count(">Needed before submitting") == 1
    saved = client.post(
        reverse("assessments:answer", args=[assessment.pk, missing.pk]),
        {"value": "2", "revision": "0", "missing": "1"},
        **HTMX,
    ).content.decode()
    assert f'id="missing-{missing.pk}" class="missing-note" hx-swap-oob="outerHTML"></p>' in saved
    assert "you can submit now" in saved
    # Without the refusal, a save says nothing of it.
    other = client.post(
        reverse("assessments:answer", args=[assessment.pk, missing.pk]),
        {"value": "3", "revision": "1"},
        **HTMX,
    ).content.decode()
    assert "missing-note" not in other
    assert "submit now" not in other


def test_submit_shows_the_result_page_and_the_form_becomes_read_only(client, manager, assessment):
    answer_everything(assessment, level=4)
    client.force_login(manager)
    response = client.post(reverse("assessments:submit", args=[assessment.pk]))
    assert response["Location"] == reverse("assessments:result", args=[assessment.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Maturity level" in page
    assert "Why these scores" in page
    assert client.get(reverse("assessments:fill", args=[assessment.pk]))["Location"] == reverse(
        "assessments:result", args=[assessment.pk]
    )
    question = first_scale(assessment)
    response = client.post(
        reverse("assessments:answer", args=[assessment.pk, question.pk]),
        {"value": "1", "revision": "1"},
        **HTMX,
    )
    assert response.status_code == 422
    assert Answer.objects.get(assessment=assessment, question=question).value == 4


def test_the_result_compares_with_the_previous_assessment(client, manager, engagement):
    first = assessment_start(engagement=engagement, by=manager)[0]
    answer_everything(first, level=2)
    assessment_submit(assessment=first, by=manager)
    second = assessment_start(engagement=engagement, by=manager)[0]
    answer_everything(second, level=4)
    assessment_submit(assessment=second, by=manager)
    client.force_login(manager)
    page = client.get(reverse("assessments:result", args=[second.pk])).content.decode()
    assert "Compared with the assessment of" in page
    assert "▲" in page
    # Question by question: what moved each score since last time (level 2 → 4 on a
    # weight-2 scale question of a 5-question dimension moves it by several points).
    assert re.search(r"<td>\+\d+\.\d</td>", page)
    client_page = client.get(
        reverse("clients:detail", args=[engagement.client.pk])
    ).content.decode()
    assert "2 assessments since" in client_page
    assert "maturity rose from" in client_page
    assert 'class="line-maturity"' in client_page


def test_a_director_approves_or_returns_from_the_result_page(client, manager, assessment):
    answer_everything(assessment)
    assessment_submit(assessment=assessment, by=manager)
    client.force_login(DirectorFactory())
    client.post(
        reverse("assessments:review", args=[assessment.pk]), {"decision": "return", "comment": ""}
    )
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED  # a return needs a comment
    client.post(
        reverse("assessments:review", args=[assessment.pk]),
        {"decision": "return", "comment": "Check governance"},
    )
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.RETURNED
    client.force_login(manager)
    page = client.get(reverse("assessments:fill", args=[assessment.pk])).content.decode()
    assert "Check governance" in page


def test_account_managers_cannot_review(client, manager, assessment):
    answer_everything(assessment)
    assessment_submit(assessment=assessment, by=manager)
    client.force_login(manager)
    assert (
        client.post(
            reverse("assessments:review", args=[assessment.pk]), {"decision": "approve"}
        ).status_code
        == 403
    )
    assert client.get(reverse("assessments:review_queue")).status_code == 403


def test_another_manager_cannot_open_answer_or_submit(client, assessment, engagement):
    question = first_scale(assessment)
    client.force_login(AccountManagerFactory())
    assert client.post(reverse("assessments:start", args=[engagement.pk])).status_code == 404
    assert client.get(reverse("assessments:fill", args=[assessment.pk])).status_code == 404
    assert client.get(reverse("assessments:result", args=[assessment.pk])).status_code == 404
    answer = reverse("assessments:answer", args=[assessment.pk, question.pk])
    assert client.post(answer, {"value": "3", "revision": "0"}).status_code == 404
    assert client.post(reverse("assessments:submit", args=[assessment.pk])).status_code == 404
    assert not Answer.objects.exists()


def test_the_review_queue_lists_submitted_assessments_oldest_first(client, manager, assessment):
    answer_everything(assessment)
    assessment_submit(assessment=assessment, by=manager)
    client.force_login(DirectorFactory())
    page = client.get(reverse("assessments:review_queue")).content.decode()
    assert "Banco Sol" in page


def test_the_review_queue_filters_by_age_and_reads_in_constant_queries(
    client, manager, count_queries
):
    from datetime import timedelta

    from django.utils import timezone

    for days in (3, 12, 45):
        done = submitted_assessment(EngagementFactory(client=ClientFactory(owner=manager)))
        Assessment.objects.filter(pk=done.pk).update(
            submitted_at=timezone.now() - timedelta(days=days)
        )
    client.force_login(DirectorFactory())
    url = reverse("assessments:review_queue")
    assert "3 assessments waiting" in client.get(url).content.decode()
    assert "2 assessments waiting" in client.get(url, {"age": "7"}).content.decode()
    assert "1 assessment waiting" in client.get(url, {"age": "30"}).content.decode()
    # A parameter it does not know is named, not a 500; the queue still shows.
    refused = client.get(url, {"age": "x", "ordering": "password"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    with count_queries() as few:
        client.get(url)
    for _ in range(5):
        submitted_assessment(EngagementFactory(client=ClientFactory(owner=manager)))
    with count_queries() as more:
        client.get(url)
    assert more.count == few.count


def test_the_result_page_draws_each_dimension_at_its_score_without_a_script(
    client, manager, assessment
):
    import re

    answer_everything(assessment, level=3)
    assessment_submit(assessment=assessment, by=manager)
    client.force_login(manager)
    page = client.get(reverse("assessments:result", args=[assessment.pk])).content.decode()
    widths = re.findall(r'class="track-fill" width="([0-9.]+)"', page)
    scores = [d["score"] for d in Assessment.objects.get().result["dimensions"]]
    assert sorted(float(w) for w in widths) == sorted(round(s, 1) for s in scores)
    assert "<script" not in page.split("</header>", 1)[1]
    # A first assessment has nothing to compare with: no column of dashes.
    assert "Since last time</th>" not in page


def test_with_two_questionnaires_the_manager_chooses_which_one_to_assess_with(
    client, manager, engagement
):
    from assessments.services import version_import, version_publish
    from tests.questionnaire_documents import small_document

    other = version_publish(
        version=version_import(document=small_document("collections-check"), by=None), by=None
    )
    client.force_login(manager)
    page = client.get(reverse("clients:detail", args=[engagement.client.pk])).content.decode()
    assert 'name="questionnaire"' in page
    client.post(
        reverse("assessments:start", args=[engagement.pk]),
        {"questionnaire": other.questionnaire.pk},
    )
    assert Assessment.objects.get().version == other


def test_a_questionnaire_without_a_published_version_cannot_be_chosen(client, manager, engagement):
    from assessments.services import version_import

    draft = version_import(
        document=__import__("tests.questionnaire_documents", fromlist=["x"]).small_document(
            "draft-only"
        ),
        by=None,
    )
    client.force_login(manager)
    response = client.post(
        reverse("assessments:start", args=[engagement.pk]),
        {"questionnaire": draft.questionnaire.pk},
    )
    assert response["Location"] == reverse("clients:detail", args=[engagement.client.pk])
    assert not Assessment.objects.exists()


def test_odd_input_on_the_answer_page_is_refused_not_a_server_error(
    client, manager, assessment, engagement
):
    question = first_scale(assessment)
    client.force_login(manager)
    url = reverse("assessments:answer", args=[assessment.pk, question.pk])
    assert client.post(url, {"value": "²", "revision": "0"}, **HTMX).status_code == 422
    response = client.post(url, {"value": "3", "revision": "0", "note": "a\x00b"}, **HTMX)
    assert response.status_code == 422
    assert "NUL" in response.content.decode()
    start = client.post(reverse("assessments:start", args=[engagement.pk]), {"questionnaire": "²"})
    assert start.status_code == 302
    assert not Answer.objects.exists()


def test_a_conflict_keeps_what_the_user_had_typed_beside_the_stored_answer(
    client, manager, assessment
):
    question = first_scale(assessment)
    client.force_login(manager)
    url = reverse("assessments:answer", args=[assessment.pk, question.pk])
    client.post(url, {"value": "4", "revision": "0"}, **HTMX)
    response = client.post(
        url, {"value": "2", "revision": "0", "note": "A long evidence note"}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "What you had typed (not saved)" in body
    assert "A long evidence note" in body


def test_a_save_after_the_session_expired_answers_401_so_the_page_keeps_retrying(
    client, assessment
):
    question = first_scale(assessment)
    url = reverse("assessments:answer", args=[assessment.pk, question.pk])
    assert client.post(url, {"value": "3", "revision": "0"}, **HTMX).status_code == 401
    assert client.post(url, {"value": "3", "revision": "0"}).status_code == 302
    assert not Answer.objects.exists()


def test_number_answers_are_written_unlocalised_in_portuguese(client, manager, assessment):
    question = next(q for q in questions_by_id(assessment.version).values() if q.type == "number")
    from assessments.services import AnswerInput, answers_save

    answers_save(assessment=assessment, by=manager, answers=[AnswerInput(question.pk, 3.5)])
    manager.language = "pt-br"
    manager.save()
    client.force_login(manager)
    page = client.get(
        reverse("assessments:fill", args=[assessment.pk]), {"section": question.dimension.code}
    )
    assert 'value="3.5"' in page.content.decode()
