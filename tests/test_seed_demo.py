"""seed_demo builds a believable, idempotent portfolio with demo logins for each role."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from accounts.models import Role, User
from clients.models import (
    Client,
    Country,
    Engagement,
    PastExperience,
    ProcessType,
    Segment,
    Stakeholder,
    TimelineEntry,
)
from clients.selectors import clients_visible_to
from web.demo_data import demo_client_name

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug_on(settings):
    # pytest-django turns DEBUG off; the demo seed is meant for DEBUG-on machines.
    settings.DEBUG = True


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Client, Engagement, Stakeholder, PastExperience, TimelineEntry)
    }


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_demo_logins_with_their_roles():
    seed("--clients", "6")
    roles = dict(
        User.objects.filter(username__in=["director", "manager", "manager2", "admin"]).values_list(
            "username", "role"
        )
    )
    assert roles == {
        "director": Role.DIRECTOR,
        "manager": Role.ACCOUNT_MANAGER,
        "manager2": Role.ACCOUNT_MANAGER,
        "admin": Role.ADMINISTRATOR,
    }
    for username in roles:
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password="demo") is not None


def test_running_it_twice_adds_nothing():
    seed("--clients", "12")
    first = counts()
    output = seed("--clients", "12")
    assert counts() == first
    assert "0 clients created, 12 already there" in output


def test_a_larger_count_only_adds_the_missing_clients():
    seed("--clients", "5")
    seed("--clients", "9")
    assert Client.objects.count() == 9


def test_every_client_has_engagements_and_stakeholders():
    seed("--clients", "20")
    assert not Client.objects.filter(engagements__isnull=True).exists()
    assert not Client.objects.filter(stakeholders__isnull=True).exists()
    assert PastExperience.objects.exists()
    assert TimelineEntry.objects.filter(kind="position_taken").exists()


def test_the_two_managers_have_separate_clients():
    seed("--clients", "10")
    manager = User.objects.get(username="manager")
    manager2 = User.objects.get(username="manager2")
    mine = set(Client.objects.filter(owner=manager).values_list("pk", flat=True))
    theirs = set(Client.objects.filter(owner=manager2).values_list("pk", flat=True))
    assert mine
    assert theirs
    assert not mine & theirs
    visible = set(clients_visible_to(manager).values_list("pk", flat=True))
    shared = set(Client.objects.filter(team_members=manager).values_list("pk", flat=True))
    assert visible == mine | shared
    director = User.objects.get(username="director")
    assert clients_visible_to(director).count() == Client.objects.count()


def test_a_small_demo_shows_every_segment_engagement_type_and_country():
    seed("--clients", "40")
    segments = set(Client.objects.values_list("segment", flat=True))
    assert segments == set(Segment.values)
    countries = set(Client.objects.values_list("country", flat=True))
    assert {Country.BRAZIL, Country.MEXICO, Country.CHILE, Country.ARGENTINA} <= countries
    types = set(Engagement.objects.values_list("process_type", flat=True))
    assert types == set(ProcessType.values) - {ProcessType.OTHER}


def test_demo_names_are_unique_for_large_portfolios():
    names = [demo_client_name(i)[0] for i in range(30_000)]
    assert len(set(names)) == len(names)


def test_it_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to load demo data"):
        seed("--clients", "1")
    assert not User.objects.exists()
    seed("--clients", "1", "--force")
    assert User.objects.filter(username="director").exists()


def test_the_demo_has_assessments_over_time_scored_by_the_engine():
    from assessments.models import Answer, Assessment, DimensionResult

    seed("--clients", "15")
    assessed = Assessment.objects.exclude(submitted_at=None)
    assert assessed.count() > 0
    assert Answer.objects.filter(assessment__in=assessed).exists()
    assert DimensionResult.objects.count() == 10 * assessed.count()
    assert all(1 <= level <= 5 for level in assessed.values_list("maturity_level", flat=True))
    # Some engagements were assessed more than once: there is a trend to show.
    from django.db.models import Count

    assert assessed.values("engagement").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_the_demo_has_an_education_history_that_does_not_flood_the_first_dispatch():
    from education.models import ActionStatus, EducationAction, EducationPlan
    from education.services import dispatch

    seed("--clients", "12")
    actions = EducationAction.objects.all()
    assert EducationPlan.objects.count() > 0
    assert actions.filter(status=ActionStatus.DONE, uplift__isnull=False).exists()
    assert actions.filter(status=ActionStatus.PLANNED).exists()
    # What the dispatcher would have done by now is already done (and notified).
    report = dispatch()
    assert report.overdue == 0
    assert report.escalations == 0
    before = actions.count()
    seed("--clients", "12")
    assert actions.count() == before


def test_a_share_of_engagements_has_the_clients_own_view():
    from voice.models import ClientAnswer, Invitation, Round
    from voice.selectors import round_gaps

    call_command("seed_demo", clients=40, stdout=io.StringIO())
    rounds = list(Round.objects.select_related("engagement__client", "version"))
    assessed = Engagement.objects.filter(assessments__status="submitted").distinct().count()
    assert 0 < len(rounds) < assessed
    assert Invitation.objects.filter(finished_at__isnull=False).exists()
    assert ClientAnswer.objects.filter(value__isnull=True).exists()  # some "not sure"
    for invitation in Invitation.objects.select_related("round__engagement__client"):
        assert invitation.stakeholder.client_id == invitation.round.engagement.client_id
        expected = "pt-br" if invitation.round.engagement.client.country == "BR" else "es"
        assert invitation.language == expected
    gaps = [row.levels for r in rounds for row in round_gaps(r).rows if row.levels is not None]
    assert gaps  # the demo shows gaps …
    assert sum(gaps) / len(gaps) > 0  # … clients seeing themselves higher, on the whole
    before = Round.objects.count()
    call_command("seed_demo", clients=40, stdout=io.StringIO())
    assert Round.objects.count() == before  # idempotent
