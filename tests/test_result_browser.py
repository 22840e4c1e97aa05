"""The result page in Chromium, in the languages and widths where it used to break
(issue 14, item 2): answers read as the assessor saw them, past experiences in the
reader's language, and dimensions drawn per kind with no label cut."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import PASSWORD
from tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words the page must show in each language (from the translation catalogues).
WORDS = {
    "pt-br": {"failure": "fracasso", "since": "Desde a última vez", "unmoved": "Nenhuma dimensão"},
    "es": {"failure": "fracaso", "since": "Desde la última vez", "unmoved": "Ninguna dimensión"},
}


def two_assessments(language: str, *, second_level: int):
    """A client with a failed past supplier, assessed at level 2 and then again."""
    from clients.models import Outcome
    from tests.factories import (
        AccountManagerFactory,
        ClientFactory,
        EngagementFactory,
        PastExperienceFactory,
        submitted_assessment,
    )

    manager = AccountManagerFactory(username="ana", first_name="Ana", language=language)
    client = ClientFactory(owner=manager, name="Banco Horizonte")
    PastExperienceFactory(
        client=client, supplier="Prime Atendimento", outcome=Outcome.FAILURE,
        severity=4, ended_on=date(2025, 5, 21),
    )  # fmt: skip
    engagement = EngagementFactory(client=client)
    submitted_assessment(engagement, level=2)
    return submitted_assessment(engagement, level=second_level)


def label_cut(page) -> list[str]:
    """Dimension names that do not show whole: clipped by their cell or off screen."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.dimension-bars th[scope=row]')]
            .filter(cell => cell.scrollWidth > cell.clientWidth + 1
                || cell.getBoundingClientRect().right > window.innerWidth)
            .map(cell => cell.innerText)"""
    )


@pytest.mark.parametrize("sized_page", [1366, 768, 360], indirect=True)
@pytest.mark.parametrize("language", ["pt-br", "es"])
def test_the_result_explains_itself_in_the_readers_language(live_server, sized_page, language):
    from assessments.i18n import localized
    from assessments.selectors import questions_by_id

    page = sized_page
    assessment = two_assessments(language, second_level=4)
    questions = {q.code: q for q in questions_by_id(assessment.version).values()}
    login(page, live_server, "ana", PASSWORD)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/")

    # Maturity and defensiveness on separate charts, each listing only its own dimensions.
    dimensions = assessment.result["dimensions"]
    assert page.locator("canvas").count() == 0
    for kind in ("maturity", "defensiveness"):
        shown = page.locator(f".dimension-group.kind-{kind} th[scope=row]").all_inner_texts()
        expected = [localized(d["name"], language) for d in dimensions if d["kind"] == kind]
        assert shown == expected
    assert label_cut(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Something moved since the first assessment: the column says how much.
    assert page.get_by_role("columnheader", name=WORDS[language]["since"]).count() == 2

    # Every answer as the assessor saw it: the level's label, the option's label, the text.
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    why = page.locator("section[aria-labelledby=why-title]").inner_text()
    scale = next(q for q in questions.values() if q.type == "scale")
    assert f"4 · {localized(scale.levels[3]['label'], language)}" in why
    choice = next(q for q in questions.values() if q.type == "choice")
    assert localized(choice.options[-1]["label"], language) in why
    assert "A note." in why
    codes = {o["code"] for q in questions.values() if q.type == "choice" for o in q.options}
    assert not any(f"\n{code}\t" in why or f"\t{code}\t" in why for code in codes)

    # The past experience: its outcome in the reader's words, its date as they write it.
    evidence = page.get_by_text("Prime Atendimento").inner_text()
    assert WORDS[language]["failure"] in evidence
    assert "21/05/2025" in evidence
    assert "2025-05-21" not in evidence


@pytest.mark.parametrize("language", ["pt-br", "es"])
def test_nothing_moved_says_so_once_instead_of_a_column_of_zeros(live_server, sized_page, language):
    page = sized_page
    assessment = two_assessments(language, second_level=2)
    login(page, live_server, "ana", PASSWORD)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    assert page.get_by_role("columnheader", name=WORDS[language]["since"]).count() == 0
    assert page.get_by_text("= 0").count() == 0
    assert page.get_by_text(WORDS[language]["unmoved"]).is_visible()
