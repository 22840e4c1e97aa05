"""A refused submit in Chromium (issue 14, item 3): the refusal stays in view, every
missing question is marked, and the first one has the focus, clear of the sticky bar."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser import wait_for_js
from tests.factories import PASSWORD
from tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assessment_missing_three(language: str):
    """An assessment answered everywhere except two required questions of the second
    section and one of the fourth."""
    from assessments.models import Answer
    from assessments.selectors import questions_by_id
    from assessments.services import assessment_start
    from tests.factories import (
        AccountManagerFactory,
        ClientFactory,
        EngagementFactory,
        answer_everything,
    )

    manager = AccountManagerFactory(username="ana", language=language)
    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    assessment, _ = assessment_start(engagement=engagement, by=manager)
    answer_everything(assessment, level=3)
    by_section: dict[int, list] = {}
    for question in questions_by_id(assessment.version).values():
        by_section.setdefault(question.dimension.position, []).append(question)
    second, fourth = (
        [q for q in by_section[position] if q.required and q.type == "scale"]
        for position in sorted(by_section)[1:4:2]
    )
    missing = [second[0], second[2], fourth[1]]
    Answer.objects.filter(question__in=missing).delete()
    return assessment, missing


def refusal_text(count: int) -> str:
    return translation.ngettext(
        "Not submitted: %(n)s required question still needs an answer.",
        "Not submitted: %(n)s required questions still need an answer.",
        count,
    ) % {"n": count}


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768


def clear_of_the_bar(page, card) -> bool:
    bar = page.locator("#progress").bounding_box()
    return card.bounding_box()["y"] >= bar["y"] + bar["height"] - 1


def has_focus(page, card) -> bool:
    return page.evaluate(
        "id => document.activeElement.closest('.question-card')?.id === id",
        card.get_attribute("id"),
    )


def ragged(page) -> list[str]:
    """Cards whose level boxes (or their radio buttons) do not line up (issue 14, item 8):
    every box of a question as wide as the others, every button at the same x."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.levels-choice')].filter(choice => {
            const edges = new Set(), radios = new Set();
            choice.querySelectorAll('.level').forEach(level => {
                const box = level.getBoundingClientRect();
                edges.add(`${Math.round(box.left)}:${Math.round(box.width)}`);
                radios.add(Math.round(level.querySelector('input').getBoundingClientRect().left));
            });
            return edges.size > 1 || radios.size > 1;
        }).map(choice => choice.closest('.question-card').id)"""
    )


def answer(page, card) -> None:
    card.locator("label.level").nth(3).click()
    card.locator(".save-status.save-ok").wait_for()


@pytest.mark.parametrize("sized_page", [1366, 768], indirect=True)
@pytest.mark.parametrize("language", ["pt-br", "es"])
def test_a_refused_submit_marks_what_is_missing_and_leads_to_each(
    live_server, sized_page, language
):
    page = sized_page
    assessment, missing = assessment_missing_three(language)
    first, second, third = (page.locator(f"#question-{q.pk}") for q in missing)
    login(page, live_server, "ana", PASSWORD)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    page.locator("form.submit-form button").click()
    page.wait_for_url(f"**#question-{missing[0].pk}")

    with translation.override(language):
        assert page.get_by_role("alert").inner_text().startswith(refusal_text(3))
        assert in_view(page, page.get_by_role("alert"))
        # Every missing question of the section is marked, and only those.
        marked = page.locator(".question-card:has(.missing-note:not(:empty))")
        assert [marked.nth(i).get_attribute("id") for i in range(marked.count())] == [
            f"question-{missing[0].pk}",
            f"question-{missing[1].pk}",
        ]
        # The first has the focus and its first line is not under the sticky bar.
        assert has_focus(page, first)
        assert clear_of_the_bar(page, first)
        assert ragged(page) == []
        # The sections say where the others are.
        counts = page.locator("nav.sections .missing-count").all_inner_texts()
        assert len(counts) == 2

        # Answered, its mark goes and the count drops; the message is still in view.
        answer(page, first)
        assert first.locator(".missing-note").inner_text() == ""
        page.get_by_text(refusal_text(2)).wait_for()
        assert in_view(page, page.locator(".refusal"))

        # "Go to the next one": the other in this section, then the one further on.
        page.locator(".next-missing").click()
        wait_for_js(
            page,
            "id => document.activeElement.closest('.question-card')?.id === id",
            arg=f"question-{missing[1].pk}",
        )
        assert clear_of_the_bar(page, second)
        answer(page, second)
        page.get_by_text(refusal_text(1)).wait_for()
        page.locator(".next-missing").click()
        page.wait_for_url(f"**#question-{missing[2].pk}")
        third.locator(".missing-note:not(:empty)").wait_for()
        assert has_focus(page, third)
        assert clear_of_the_bar(page, third)
        answer(page, third)
        page.locator(".refusal-done").wait_for()

    page.locator("form.submit-form button").click()
    page.wait_for_url(f"**/assessments/{assessment.pk}/result/")
