"""Two starts of one engagement by one assessor at once (two tabs, a retried call) end
with one draft, which both get."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections, transaction

from assessments.models import Assessment, AssessmentTransition
from assessments.services import assessment_start
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
