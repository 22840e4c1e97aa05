"""A client respondent answers on a phone (360×740) in Chromium: in Portuguese with
autosave, a reload and "I'm done"; a second respondent in Spanish; and the page asks the
server for nothing but itself and the static files."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.test_accessibility import problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def invitations():
    from tests.factories import (
        AccountManagerFactory,
        ClientFactory,
        EngagementFactory,
        StakeholderFactory,
    )
    from voice.services import invitation_create, round_open

    manager = AccountManagerFactory()
    client = ClientFactory(owner=manager, name="Aurora Varejo S.A.")
    round_ = round_open(
        engagement=EngagementFactory(client=client),
        by=manager,
        closes_on=timezone.localdate() + timedelta(days=10),
    )
    ana = StakeholderFactory(client=client, name="Ana Souza", email="ana@aurora.example")
    luis = StakeholderFactory(client=client, name="Luis Pérez", email="luis@aurora.example")
    return (
        invitation_create(round=round_, stakeholder=ana, language="pt-br", by=manager),
        invitation_create(round=round_, stakeholder=luis, language="es", by=manager),
    )


def choose(page, card, level: int) -> None:
    card.locator("label.level").nth(level - 1).click()
    card.locator(".save-status.save-ok").wait_for()


@pytest.mark.parametrize("sized_page", [360], indirect=True)
def test_two_respondents_answer_on_a_phone_in_their_languages(live_server, sized_page):
    from voice.models import ClientAnswer
    from voice.services import client_questions

    page = sized_page
    page.set_viewport_size({"width": 360, "height": 740})
    (ana, ana_secret), (luis, luis_secret) = invitations()
    asked = client_questions(ana.round.version)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/r/{ana_secret}/")
    assert asked[0].client["text"]["pt-br"] in page.content()
    assert problems(page) == []  # axe-core: no serious or critical violation
    first = page.locator(f"#question-{asked[0].pk}")
    choose(page, first, 4)
    assert first.locator(".save-status").inner_text() == "Salvo"
    assert page.locator("#progress").inner_text() == "1 de 16 respondidas"
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.reload()
    assert page.locator(f"#question-{asked[0].pk} input[value='4']").is_checked()
    choose(page, page.locator(f"#question-{asked[1].pk}"), 2)
    page.get_by_role("button", name="Terminei").click()
    page.get_by_role("heading", name="Obrigado").wait_for()

    page.goto(f"{live_server.url}/r/{luis_secret}/")
    assert asked[0].client["text"]["es"] in page.content()
    choose(page, page.locator(f"#question-{asked[0].pk}"), 5)
    assert page.locator(f"#question-{asked[0].pk} .save-status").inner_text() == "Guardado"

    assert dict(
        ClientAnswer.objects.filter(invitation=ana).values_list("question_id", "value")
    ) == {asked[0].pk: 4, asked[1].pk: 2}
    assert list(
        ClientAnswer.objects.filter(invitation=luis).values_list("question_id", "value")
    ) == [(asked[0].pk, 5)]
    ana.refresh_from_db()
    assert ana.finished_at is not None
    own = (f"{live_server.url}/r/{ana_secret}/", f"{live_server.url}/r/{luis_secret}/")
    for url in requested:
        assert url.startswith((*own, f"{live_server.url}/static/")), url
