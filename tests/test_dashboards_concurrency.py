"""Concurrent writers never leave the dashboards wrong: a standing refresh waits for a
reassignment of its client (and for another refresh of its engagement), two summary
rebuilds take turns, and a reassignment gets the summaries rebuilt right after."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.models import User
from dashboards.models import Standing, TrendCell
from dashboards.standings import standing_refresh
from dashboards.summaries import summaries_rebuild
from tests.factories import AccountManagerFactory, EngagementFactory, submitted_assessment

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target, *args) -> threading.Thread:
    def run() -> None:
        try:
            target(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_refresh_during_a_reassignment_ends_with_the_new_owner(postgres):
    engagement = EngagementFactory()
    submitted_assessment(engagement, level=3)
    newcomer = User.objects.get(pk=AccountManagerFactory().pk)
    client_id = engagement.client_id
    reassigned = threading.Event()

    def reassign() -> None:
        from clients.models import Client

        with transaction.atomic():
            client = Client.objects.select_for_update().get(pk=client_id)
            client.owner = newcomer
            client.save()
            reassigned.set()
            time.sleep(1.0)  # the refresh below starts meanwhile and must wait

    thread = in_thread(reassign)
    assert reassigned.wait(5)
    standing_refresh(engagement.pk)  # computed after the reassignment commits
    thread.join()
    assert Standing.objects.get(engagement=engagement).client_owner_id == newcomer.pk


def test_two_rebuilds_at_once_do_not_double_the_cells(postgres):
    submitted_assessment(EngagementFactory(), level=2)
    summaries_rebuild()
    expected = TrendCell.objects.count()
    assert expected > 0
    threads = [in_thread(summaries_rebuild) for _ in range(2)]
    for thread in threads:
        thread.join()
    assert TrendCell.objects.count() == expected


def test_a_reassignment_asks_for_the_summaries_right_after_commit(monkeypatch):
    from clients.services import client_update
    from dashboards import tasks

    engagement = EngagementFactory()
    submitted_assessment(engagement, level=3)
    calls: list[str] = []
    monkeypatch.setattr(tasks, "enqueue_refresh", lambda: calls.append("refresh"))
    client = engagement.client
    newcomer = AccountManagerFactory()
    from tests.factories import DirectorFactory

    client_update(client=client, by=DirectorFactory(), owner=newcomer)
    assert calls == ["refresh"]
    # Renaming moves no figure between managers: no rebuild for it.
    client.refresh_from_db()
    client.name = "Another name"
    client.save()
    assert calls == ["refresh"]
    assert connection.vendor in {"postgresql", "sqlite"}


def _held_while_submitting(engagement, assessor, ready: threading.Event) -> threading.Thread:
    """Another writer of ``engagement``: a submit that holds the engagement a second
    before it commits."""
    from assessments.services import assessment_start, assessment_submit
    from tests.factories import answer_everything

    draft = assessment_start(engagement=engagement, by=assessor)[0]
    answer_everything(draft, level=1)

    def submit() -> None:
        with transaction.atomic():
            assessment_submit(assessment=draft, by=assessor)
            ready.set()
            time.sleep(1.0)  # the write below starts meanwhile and must wait

    return in_thread(submit)


@pytest.mark.parametrize("write", ["first submit", "API import", "reconciliation's import"])
def test_a_submit_that_waited_for_another_writer_stands_on_what_it_committed(postgres, write):
    """A first submit's standing rides in its statement (STANDING_RIDER), which starts
    after its lock, so it sees the writer it waited for; so does the API's import, whose
    first statement holds the engagement. The reconciliation's import takes the lock in
    its insert, whose snapshot is older, so its standing is refreshed after it. Every way,
    the other writer's assessment is the one before."""
    from assessments.selectors import default_version
    from assessments.services import AnswerInput, assessment_import, assessment_start
    from tests.factories import DirectorFactory, answer_everything
    from tests.test_assessment_import import answers_of

    engagement = EngagementFactory()
    owner = engagement.client.owner
    if write == "first submit":
        mine = assessment_start(engagement=engagement, by=owner)[0]
        answer_everything(mine, level=4)
    ready = threading.Event()
    thread = _held_while_submitting(engagement, DirectorFactory(), ready)
    assert ready.wait(5)
    if write == "first submit":
        from assessments.services import assessment_submit

        latest = assessment_submit(assessment=mine, by=owner)
    else:
        answers = [AnswerInput(**item) for item in answers_of(default_version(), 4)]
        in_sight_of = owner if write == "API import" else None
        latest = assessment_import(
            engagement=engagement, by=owner, answers=answers, in_sight_of=in_sight_of
        )
    thread.join()
    standing = Standing.objects.get(engagement=engagement)
    assert standing.assessment_id == latest.pk
    assert standing.previous_maturity_score is not None  # the other writer's, committed first
    assert standing.previous_maturity_score < standing.maturity_score
