"""Education pages: my actions, inline complete/reschedule/skip, the client page's plan,
notifications and the directors' playbook pages — scoped per user."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from education import services
from education.models import (
    ActionStatus,
    EducationAction,
    Notification,
    NotificationKind,
    Playbook,
    PlaybookRule,
)
from tests.factories import ClientFactory, EducationActionFactory, EngagementFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client)


@pytest.fixture
def action(engagement):
    return EducationActionFactory(
        engagement=engagement, title="Governance workshop", due_date=timezone.localdate()
    )


@pytest.fixture
def others_action(b_client):
    return EducationActionFactory(
        engagement=EngagementFactory(client=b_client), title="Secret site visit"
    )


def test_my_actions_are_a_worklist_of_groups_with_counts(client, manager_a, engagement):
    today = timezone.localdate()
    for title, days in (("Late one", -3), ("Soon one", 2), ("Far one", 30), ("Far two", 40)):
        EducationActionFactory(engagement=engagement, title=title, due_date=today + timedelta(days))
    client.force_login(manager_a)
    url = reverse("education:agenda")
    body = client.get(url).content.decode()  # the first group with something in it
    assert "Overdue (1)" in body
    assert "Late one" in body
    assert "Soon one" not in body
    later = client.get(url, {"when": "later"}).content.decode()
    assert "Later (2)" in later
    assert later.index("Far one") < later.index("Far two")  # by due date
    assert "Late one" not in later
    # Each tab carries its count, whichever group is shown.
    for label, count in (("Overdue", 1), ("This week", 1), ("Later", 2)):
        pattern = label + r' <span class="count[^"]*">' + str(count) + "</span>"
        assert re.search(pattern, later), label
    assert "Nothing in this group." in client.get(url, {"when": "closed"}).content.decode()


def test_the_worklist_filters_by_client_and_words_and_pages(
    client, manager_a, engagement, a_client
):
    other = EngagementFactory(client=ClientFactory(owner=manager_a, name="Cooperativa Sol"))
    today = timezone.localdate()
    for i in range(30):
        EducationActionFactory(
            engagement=engagement, title=f"Workshop {i:02}", due_date=today + timedelta(10 + i)
        )
    EducationActionFactory(engagement=other, title="Site visit", due_date=today + timedelta(20))
    client.force_login(manager_a)
    url = reverse("education:agenda")
    first = client.get(url, {"when": "later"}).content.decode()
    assert "Later (31)" in first
    assert "Page 1 of 2" in first
    assert first.count('class="action-row') == 25
    second = client.get(url, {"when": "later", "page": "2"}).content.decode()
    assert second.count('class="action-row') == 6
    only_sol = client.get(url, {"when": "later", "client": other.client_id}).content.decode()
    assert "Later (1)" in only_sol
    assert "Site visit" in only_sol
    assert "Workshop 00" not in only_sol
    words = client.get(url, {"q": "workshop 1"}).content.decode()
    assert "Later (10)" in words  # Workshop 10 … 19
    assert "Site visit" not in words
    by_client_name = client.get(url, {"q": "sol"}).content.decode()
    assert "Later (1)" in by_client_name
    none = client.get(url, {"q": "nothing like it"}).content.decode()
    assert "No action here matches these filters." in none
    # Odd input is ignored, not a server error.
    odd = {"client": "x", "page": "-1", "when": "soon", "q": "a"}
    assert client.get(url, odd).status_code == 200
    assert client.get(url, {"q": "a\x00"}).status_code == 400  # core.middleware


def test_another_managers_client_does_not_leak_through_the_client_filter(
    client, manager_a, action, others_action
):
    client.force_login(manager_a)
    url = reverse("education:agenda")
    body = client.get(url, {"client": others_action.client_id}).content.decode()
    assert "Secret site visit" not in body
    assert others_action.client.name not in body


def test_the_inline_forms_are_loaded_on_demand(client, manager_a, action):
    client.force_login(manager_a)
    body = client.get(reverse("education:agenda")).content.decode()
    assert 'name="outcome"' not in body  # no form until asked for
    row = reverse("education:action_row", args=[action.pk])
    assert f"{row}?form=complete" in body
    form = client.get(row, {"form": "complete"}, **HTMX).content.decode()
    assert 'name="outcome"' in form
    assert 'name="due_date"' not in form
    assert client.get(row, {"form": "nope"}, **HTMX).status_code == 200


def test_a_plan_lists_its_actions_and_the_result_page_links_to_it(client, manager_a, engagement):
    from education.services import plan_build
    from tests.factories import submitted_assessment

    assessment = submitted_assessment(engagement, level=2)
    plan = assessment.education_plan
    plan_build(plan_id=plan.pk)
    EducationActionFactory(engagement=engagement, title="Not from the plan")
    client.force_login(manager_a)
    result = client.get(reverse("assessments:result", args=[assessment.pk])).content.decode()
    link = f"{reverse('education:agenda')}?plan={plan.pk}"
    assert link in result
    planned = plan.actions.count()
    assert planned > 0
    body = client.get(link).content.decode()
    total = sum(int(n) for n in re.findall(r'<span class="count[^"]*">(\d+)</span>', body)[:3])
    assert total == planned
    assert "Not from the plan" not in body
    assert 'class="badge badge-new"' in body  # a plan just built is new


def test_the_agenda_has_an_empty_state(client, manager_a):
    client.force_login(manager_a)
    assert "Nothing planned" in client.get(reverse("education:agenda")).content.decode()


def test_the_agenda_shows_only_the_users_own_actions(client, manager_a, action, others_action):
    client.force_login(manager_a)
    body = client.get(reverse("education:agenda")).content.decode()
    assert "Governance workshop" in body
    assert "Secret site visit" not in body


def test_a_director_can_look_at_a_managers_agenda(client, director, manager_b, others_action):
    client.force_login(director)
    url = reverse("education:agenda") + f"?owner={manager_b.pk}"
    assert "Secret site visit" in client.get(url).content.decode()


def test_a_manager_cannot_look_at_another_managers_agenda(
    client, manager_a, manager_b, others_action
):
    client.force_login(manager_a)
    url = reverse("education:agenda") + f"?owner={manager_b.pk}"
    assert "Secret site visit" not in client.get(url).content.decode()


def test_the_agenda_query_count_does_not_grow_with_actions(
    client, manager_a, engagement, count_queries
):
    client.force_login(manager_a)

    def count(n):
        EducationAction.objects.all().delete()
        for i in range(n):
            EducationActionFactory(
                engagement=engagement, due_date=timezone.localdate() + timedelta(i)
            )
        with count_queries() as queries:
            assert client.get(reverse("education:agenda")).status_code == 200
        return queries.count

    assert count(3) == count(30)


def test_completing_inline_returns_the_done_row(client, manager_a, action):
    client.force_login(manager_a)
    response = client.post(
        reverse("education:action_complete", args=[action.pk]),
        {"outcome": "Twelve people came; the sponsor asked for a second session."},
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="action-{action.pk}"' in body
    assert "Twelve people came" in body
    assert "<html" not in body
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE
    assert action.completed_by == manager_a


def test_completing_without_an_outcome_keeps_the_form_open_with_the_error(
    client, manager_a, action
):
    client.force_login(manager_a)
    response = client.post(
        reverse("education:action_complete", args=[action.pk]), {"outcome": ""}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="outcome"' in body  # the form stays open, with the error on it
    assert "This field is required." in body
    action.refresh_from_db()
    assert action.status == ActionStatus.PLANNED


def test_a_refused_completion_keeps_what_was_typed(client, manager_a, action):
    services.action_complete(action=action, by=manager_a, outcome="Done in another tab.")
    client.force_login(manager_a)
    typed = "A long account of the workshop that must not be lost."
    response = client.post(
        reverse("education:action_complete", args=[action.pk]), {"outcome": typed}, **HTMX
    )
    body = response.content.decode()
    assert "already closed" in body
    assert typed in body


def test_rescheduling_to_the_past_is_refused_on_its_field(client, manager_a, action):
    client.force_login(manager_a)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        reverse("education:action_reschedule", args=[action.pk]),
        {"due_date": yesterday.isoformat()},
        **HTMX,
    )
    body = response.content.decode()
    assert "cannot be in the past" in body
    assert yesterday.isoformat() in body


def test_skipping_without_javascript_redirects_back_with_a_message(client, manager_a, action):
    client.force_login(manager_a)
    response = client.post(
        reverse("education:action_skip", args=[action.pk]),
        {"reason": "The client postponed the project.", "next": "/education/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/education/"
    assert "Skipped." in response.content.decode()
    action.refresh_from_db()
    assert action.status == ActionStatus.SKIPPED


def test_a_foreign_next_url_is_ignored(client, manager_a, action):
    client.force_login(manager_a)
    response = client.post(
        reverse("education:action_skip", args=[action.pk]),
        {"reason": "r", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("education:agenda")


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("education:action_row", "get", {}),
        ("education:action_edit", "get", {}),
        ("education:action_complete", "post", {"outcome": "x"}),
        ("education:action_skip", "post", {"reason": "x"}),
        ("education:action_reschedule", "post", {"due_date": "2031-01-01"}),
        ("education:action_reopen", "post", {}),
    ],
)
def test_another_managers_action_answers_404(client, manager_a, others_action, name, method, data):
    client.force_login(manager_a)
    response = getattr(client, method)(reverse(name, args=[others_action.pk]), data)
    assert response.status_code == 404
    others_action.refresh_from_db()
    assert others_action.status == ActionStatus.PLANNED


def test_adding_an_action_to_another_managers_client_answers_404(client, manager_a, b_client):
    client.force_login(manager_a)
    assert client.get(reverse("education:action_add", args=[b_client.pk])).status_code == 404


def test_adding_an_action_validates_and_keeps_what_was_typed(
    client, manager_a, a_client, engagement
):
    client.force_login(manager_a)
    url = reverse("education:action_add", args=[a_client.pk])
    data = {
        "engagement": engagement.pk,
        "action_type": "site_visit",
        "title": "Visit to the Recife floor",
        "description": "Bring the quality team.",
        "due_date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "audience": "Operations, Quality",
    }
    response = client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "cannot be in the past" in body
    assert "Visit to the Recife floor" in body
    assert "Bring the quality team." in body
    data["due_date"] = (timezone.localdate() + timedelta(days=9)).isoformat()
    response = client.post(url, data)
    assert response.status_code == 302
    created = EducationAction.objects.get(title="Visit to the Recife floor")
    assert created.audience == ["Operations", "Quality"]
    assert created.owner == manager_a


def test_the_client_page_shows_the_plan_and_its_progress(client, manager_a, a_client, engagement):
    done = EducationActionFactory(engagement=engagement, title="Done workshop")
    services.action_complete(action=done, by=manager_a, outcome="ok")
    EducationActionFactory(engagement=engagement, title="Open walkthrough")
    client.force_login(manager_a)
    body = client.get(reverse("clients:detail", args=[a_client.pk])).content.decode()
    assert 'id="plan"' in body
    assert "Done workshop" in body
    assert "Open walkthrough" in body
    assert "1 of 2 done" in body
    assert '<progress value="50"' in body


def test_the_client_page_plan_has_an_empty_state(client, manager_a, a_client, engagement):
    client.force_login(manager_a)
    body = client.get(reverse("clients:detail", args=[a_client.pk])).content.decode()
    assert "No education actions yet" in body


# --- Notifications --------------------------------------------------------------------------


def notify(user, key="n1", kind=NotificationKind.REMINDER, **params):
    services.notifications_write(
        [
            services.notification_for(
                recipient=user,
                kind=kind,
                key=key,
                params={
                    "title": "Workshop",
                    "client": "Aurora",
                    "due_date": "2026-12-03",
                    **params,
                },
            )
        ]
    )
    return Notification.objects.get(idempotency_key=key)


def test_the_header_shows_the_unread_count(client, manager_a):
    notify(manager_a, "a")
    notify(manager_a, "b")
    client.force_login(manager_a)
    body = client.get(reverse("education:agenda")).content.decode()
    assert 'class="badge badge-count"' in body
    assert ">2</span>" in body
    assert 'aria-label="2 unread"' in body


def test_the_unread_count_runs_once_per_page_and_never_for_an_autosave(
    client, manager_a, count_queries
):
    """The bell's count is read where a template shows it, once; an autosave's partial,
    sent dozens of times per assessment, has no bell and does not pay for it."""
    from assessments.selectors import questions_by_id
    from assessments.services import assessment_start

    notify(manager_a, "a")
    client.force_login(manager_a)
    counting = "education_notification"
    with count_queries() as page:
        body = client.get(reverse("education:agenda")).content.decode()
    assert ">1</span>" in body
    assert sum(counting in sql for sql in page.sql) == 1
    assessment = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager_a)), by=manager_a
    )[0]
    question = next(q for q in questions_by_id(assessment.version).values() if q.type == "scale")
    url = reverse("assessments:answer", args=[assessment.pk, question.pk])
    with count_queries() as autosave:
        saved = client.post(url, {"value": "3", "revision": "0"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert not any(counting in sql for sql in autosave.sql)


def test_the_notification_centre_lists_only_the_users_own(client, manager_a, manager_b):
    notify(manager_a, "mine", title="Mine to do")
    notify(manager_b, "theirs", title="Not yours")
    client.force_login(manager_a)
    body = client.get(reverse("education:notifications")).content.decode()
    assert "Mine to do" in body
    assert "Not yours" not in body


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, manager_a):
    notification = notify(manager_a)
    client.force_login(manager_a)
    response = client.get(reverse("education:notification_open", args=[notification.pk]))
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_users_notification_answers_404(client, manager_a, manager_b):
    theirs = notify(manager_b)
    client.force_login(manager_a)
    assert client.get(reverse("education:notification_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client, manager_a):
    notify(manager_a, "a")
    notify(manager_a, "b")
    client.force_login(manager_a)
    client.post(reverse("education:notifications_read"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_notifications_are_paginated(client, manager_a):
    for i in range(30):
        notify(manager_a, f"k{i}")
    client.force_login(manager_a)
    body = client.get(reverse("education:notifications")).content.decode()
    assert "Page 1 of 2" in body


# --- Playbooks ------------------------------------------------------------------------------


def test_managers_cannot_reach_the_playbook_pages(client, manager_a):
    client.force_login(manager_a)
    playbook = Playbook.objects.get(code="bpo-default")
    assert client.get(reverse("education:playbooks")).status_code == 403
    assert client.get(reverse("education:playbook", args=[playbook.pk])).status_code == 403


def test_directors_see_the_default_playbook_with_its_rules(client, director):
    client.force_login(director)
    playbook = Playbook.objects.get(code="bpo-default")
    body = client.get(reverse("education:playbook", args=[playbook.pk])).content.decode()
    assert "Governance and contract management below 50" in body
    assert "Orienting close of the engagement" in body


def test_a_director_edits_a_template(client, director):
    client.force_login(director)
    template = Playbook.objects.get(code="bpo-default").templates.get(code="site-visit")
    url = reverse("education:template_edit", args=[template.pk])
    data = {
        "action_type": "site_visit",
        "lead_time_days": 45,
        "recurrence": "once",
        "every_weeks": "",
        "audience": "Sponsor",
        "title_en": "Visit the floor",
        "title_pt-br": "Visitar a operação",
        "title_es": "Visitar la operación",
    }
    assert client.post(url, data).status_code == 302
    template.refresh_from_db()
    assert template.lead_time_days == 45
    assert template.title["pt-br"] == "Visitar a operação"
    data.update(recurrence="weekly", every_weeks="")
    response = client.post(url, data)
    assert "Say every how many weeks" in response.content.decode()


def test_a_rule_must_have_the_fields_its_kind_reads(client, director):
    client.force_login(director)
    playbook = Playbook.objects.get(code="bpo-default")
    template = playbook.templates.first()
    url = reverse("education:rule_add", args=[playbook.pk])
    before = PlaybookRule.objects.count()
    response = client.post(url, {"template": template.pk, "kind": "weak_dimension"})
    assert "Name the dimension." in response.content.decode()
    response = client.post(
        url,
        {
            "template": template.pk,
            "kind": "weak_dimension",
            "dimension_code": "governance",
            "threshold": 65,
        },
    )
    assert response.status_code == 302
    assert PlaybookRule.objects.count() == before + 1


def test_a_perception_gap_rule_needs_its_gap_and_reads_as_a_sentence(client, director):
    client.force_login(director)
    playbook = Playbook.objects.get(code="bpo-default")
    template = playbook.templates.get(code="calibration-session")
    url = reverse("education:rule_add", args=[playbook.pk])
    response = client.post(url, {"template": template.pk, "kind": "perception_gap"})
    assert "Give the gap in levels" in response.content.decode()
    response = client.post(
        url,
        {"template": template.pk, "kind": "perception_gap", "dimension_code": "partnership",
         "gap_levels": "-1.5"},
    )  # fmt: skip
    assert response.status_code == 302
    rule = PlaybookRule.objects.get(kind="perception_gap", dimension_code="partnership")
    assert rule.gap_levels == -1.5
    page = client.get(reverse("education:playbook", args=[playbook.pk])).content.decode()
    assert "The client rates Partnership and co-operation" in page
    assert "1.5 or more levels below us" in page
    assert "The client rates a dimension 2 or more levels above us" in page
    out_of_range = {"template": template.pk, "kind": "perception_gap", "gap_levels": "7"}
    assert client.post(url, out_of_range).status_code == 200  # the form again, nothing saved
    assert PlaybookRule.objects.filter(gap_levels=7).count() == 0


def test_the_client_page_shows_measured_uplift_per_dimension_and_per_type(
    client, manager_a, a_client, engagement
):
    from education.models import EducationPlan
    from tests.factories import submitted_assessment

    first = submitted_assessment(engagement, level=1)
    services.plan_build(plan_id=EducationPlan.objects.get(assessment=first).pk)
    walkthrough = EducationAction.objects.get(template__code="process-walkthrough")
    services.action_complete(action=walkthrough, by=manager_a, outcome="Walked the floor.")
    second = submitted_assessment(engagement, level=3)
    services.plan_build(plan_id=EducationPlan.objects.get(assessment=second).pk)
    walkthrough.refresh_from_db()
    client.force_login(manager_a)
    body = client.get(reverse("clients:detail", args=[a_client.pk])).content.decode()
    assert "Uplift measured: " + f"{walkthrough.uplift:.1f}" in body
    assert "Knowledge of the outsourced process +" in body
    assert "average uplift per action type" in body


def test_the_home_page_nudges_about_overdue_and_this_weeks_actions(client, manager_a, engagement):
    today = timezone.localdate()
    EducationActionFactory(engagement=engagement, due_date=today - timedelta(days=1))
    EducationActionFactory(engagement=engagement, due_date=today + timedelta(days=2))
    EducationActionFactory(engagement=engagement, due_date=today + timedelta(days=40))
    client.force_login(manager_a)
    body = client.get(reverse("web:home")).content.decode()
    assert "1 of your education actions is overdue." in body
    assert "1 is due this week." in body
