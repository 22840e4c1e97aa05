"""Writes at once: two starts of one engagement by one assessor (two tabs, a retried call)
end with one draft, which both get; answers saved while another save or a submit of the
same assessment is uncommitted wait for it and are checked against what it wrote."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connections, transaction

from assessments.models import Answer, Assessment, AssessmentTransition
from assessments.services import (
    AnswerInput,
    AnswersRefused,
    AssessmentNotEditable,
    answers_save,
    assessment_start,
    assessment_submit,
)
from tests.factories import AccountManagerFactory, ClientFactory, EngagementFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_start_while_another_is_uncommitted_waits_and_resumes_its_draft(postgres):
    manager = AccountManagerFactory()
    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    started = threading.Event()
    first: list[tuple[int, bool]] = []

    def start_and_linger() -> None:
        try:
            with transaction.atomic():
                draft, created = assessment_start(engagement=engagement, by=manager)
                first.append((draft.pk, created))
                started.set()
                time.sleep(1.0)  # the start below runs meanwhile and must wait
        finally:
            connections.close_all()

    thread = threading.Thread(target=start_and_linger)
    thread.start()
    assert started.wait(5)
    draft, created = assessment_start(engagement=engagement, by=manager)
    thread.join()
    assert first == [(draft.pk, True)]
    assert created is False
    assert Assessment.objects.count() == 1
    assert AssessmentTransition.objects.count() == 1


def _draft_with_one_answer() -> tuple[Any, Any, list[Any]]:
    from assessments.selectors import questions_by_id

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    questions = [q for q in questions_by_id(draft.version).values() if q.type == "scale"][:2]
    answers_save(
        assessment=draft, by=manager, answers=[AnswerInput(question=questions[0].pk, value=2)]
    )
    return manager, draft, questions


def _while_uncommitted(work: Callable[[], None]) -> threading.Thread:
    """``work`` done in a transaction another thread holds open for a second."""
    done = threading.Event()

    def run() -> None:
        try:
            with transaction.atomic():
                work()
                done.set()
                time.sleep(1.0)  # the caller's write runs meanwhile and must wait
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    assert done.wait(5)
    return thread


def test_a_save_that_waited_for_a_change_of_its_answer_is_stale_and_saves_none_of_its_list(
    postgres, count_queries
):
    """The one-statement save tests each answer's revision on the row it writes, after
    waiting for the other save's commit: the changed answer is stale, and the new answer
    sent with it is undone with it (all or none), then the long way says which is stale."""
    manager, draft, (first, second) = _draft_with_one_answer()
    other = _while_uncommitted(
        lambda: answers_save(
            assessment=draft,
            by=manager,
            answers=[AnswerInput(question=first.pk, value=5, revision=1)],
        )
    )
    with count_queries() as captured, pytest.raises(AnswersRefused) as refused:
        answers_save(
            assessment=draft,
            by=manager,
            answers=[
                AnswerInput(question=second.pk, value=3),
                AnswerInput(question=first.pk, value=4, revision=1),
            ],
        )
    other.join()
    assert "core_refuse_unless" in captured.sql[0]  # the short way ran, and was undone
    (problem,) = refused.value.problems
    assert (problem.question, problem.code) == (first.pk, "stale")
    assert problem.current is not None
    assert (problem.current["value"], problem.current["revision"]) == (5, 2)
    stored = dict(Answer.objects.filter(assessment=draft).values_list("question_id", "value"))
    assert stored == {first.pk: 5}


def test_a_new_answer_given_twice_at_once_is_saved_once_and_the_second_is_stale(postgres):
    manager, draft, (_first, second) = _draft_with_one_answer()
    other = _while_uncommitted(
        lambda: answers_save(
            assessment=draft, by=manager, answers=[AnswerInput(question=second.pk, value=1)]
        )
    )
    with pytest.raises(AnswersRefused) as refused:
        answers_save(
            assessment=draft, by=manager, answers=[AnswerInput(question=second.pk, value=4)]
        )
    other.join()
    assert [p.code for p in refused.value.problems] == ["stale"]
    assert Answer.objects.get(assessment=draft, question=second).value == 1


def test_a_save_that_waited_for_a_submit_is_refused_and_writes_nothing(postgres):
    from tests.factories import answer_everything

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    answer_everything(draft, level=3)
    first = Answer.objects.filter(assessment=draft, value=3).first().question
    revision = Answer.objects.get(assessment=draft, question=first).revision
    other = _while_uncommitted(lambda: assessment_submit(assessment=draft, by=manager))
    with pytest.raises(AssessmentNotEditable):
        answers_save(
            assessment=draft,
            by=manager,
            answers=[AnswerInput(question=first.pk, value=1, revision=revision)],
        )
    other.join()
    stored = Answer.objects.get(assessment=draft, question=first)
    assert (stored.value, stored.revision) == (3, revision)


def test_a_submit_holds_its_engagement_and_shares_its_client_from_its_first_statement(
    postgres,
):
    """What the standing's refresh would lock after the write, the submit's first
    statement locks: the engagement against every writer, the client against writers
    but not against other readers' shares (another engagement's refresh)."""
    from django.db import connection
    from psycopg.errors import LockNotAvailable

    from tests.factories import answer_everything

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    answer_everything(draft, level=3)
    engagement, client = draft.engagement_id, draft.engagement.client_id
    locked = threading.Event()
    finish = threading.Event()

    def submit_and_linger() -> None:
        try:
            with transaction.atomic():
                assessment_submit(assessment=Assessment(pk=draft.pk), by=manager)
                locked.set()
                finish.wait(5)
        finally:
            connections.close_all()

    thread = threading.Thread(target=submit_and_linger)
    thread.start()
    try:
        assert locked.wait(5)
        tries = {
            "assessment": f"SELECT 1 FROM assessments_assessment WHERE id = {draft.pk}",
            "engagement": f"SELECT 1 FROM clients_engagement WHERE id = {engagement}",
            "client": f"SELECT 1 FROM clients_client WHERE id = {client}",
        }
        outcomes = {}
        for name, sql in tries.items():
            for mode in ("FOR KEY SHARE", "FOR SHARE", "FOR NO KEY UPDATE"):
                try:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute(f"{sql} {mode} NOWAIT")
                    outcomes[name, mode] = "granted"
                except OperationalError as error:  # Django's, around psycopg's
                    outcomes[name, mode] = type(error.__cause__).__name__
    finally:
        finish.set()
        thread.join()
    held = LockNotAvailable.__name__
    assert outcomes == {
        # A row referring to the assessment may be written meanwhile (a foreign key's
        # check takes FOR KEY SHARE): a round holding the engagement while it writes an
        # education action of this assessment does not wait for the submit, which waits
        # for it.
        ("assessment", "FOR KEY SHARE"): "granted",
        ("assessment", "FOR SHARE"): held,
        ("assessment", "FOR NO KEY UPDATE"): held,
        ("engagement", "FOR KEY SHARE"): held,
        ("engagement", "FOR SHARE"): held,
        ("engagement", "FOR NO KEY UPDATE"): held,
        ("client", "FOR KEY SHARE"): "granted",
        ("client", "FOR SHARE"): "granted",
        ("client", "FOR NO KEY UPDATE"): held,
    }
