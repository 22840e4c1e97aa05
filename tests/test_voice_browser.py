"""In Chromium: an account manager invites two of the client's stakeholders; each answers
from the link in their e-mail on a phone (360×740) — one in Portuguese with autosave, a
reload and "I'm done", one in Spanish — the survey asks the server for nothing but itself
and the static files; and the manager sees both, and the gap."""

from __future__ import annotations

import re

import pytest

from tests.test_accessibility import problems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def invite_through_the_managers_page(page, live_server) -> None:
    """The account manager opens a round on the engagement and invites two of the
    client's stakeholders, one in Portuguese and one in Spanish."""
    from tests.factories import (
        PASSWORD,
        AccountManagerFactory,
        ClientFactory,
        EngagementFactory,
        StakeholderFactory,
    )
    from tests.test_browser import login

    manager = AccountManagerFactory(username="marta")
    client = ClientFactory(owner=manager, name="Aurora Varejo S.A.")
    EngagementFactory(client=client)
    StakeholderFactory(client=client, name="Ana Souza", email="ana@aurora.example")
    StakeholderFactory(client=client, name="Luis Pérez", email="luis@aurora.example")
    login(page, live_server, "marta", PASSWORD)
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    page.get_by_role("link", name="Client's view").click()
    page.get_by_role("button", name="Open round").click()
    page.get_by_text("Round opened: now invite").wait_for()
    page.get_by_role("checkbox", name="Ana Souza").check()
    page.get_by_label("Language for Ana Souza").select_option("pt-br")
    page.get_by_role("checkbox", name="Luis Pérez").check()
    page.get_by_label("Language for Luis Pérez").select_option("es")
    page.get_by_role("button", name="Send invitations").click()
    page.get_by_text("2 stakeholders invited").wait_for()


def emailed_links(live_server) -> dict[str, str]:
    """The relay sends the outbox; each stakeholder's link, as their e-mail has it."""
    from django.core import mail

    from education.services import notifications_relay

    assert notifications_relay().sent == 2
    links = {}
    for message in mail.outbox:
        found = re.search(rf"{re.escape(live_server.url)}/r/[\w-]+/", message.body)
        assert found, message.body
        links[message.to[0]] = found.group(0)
    return links


def choose(page, card, level: int) -> None:
    card.locator("label.level").nth(level - 1).click()
    card.locator(".save-status.save-ok").wait_for()


def test_two_respondents_answer_from_their_emails_on_a_phone_and_the_manager_sees_both(
    live_server, sized_page, settings
):
    from voice.models import ClientAnswer, Invitation
    from voice.services import client_questions

    page = sized_page  # the manager's, at 1366
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = live_server.url
    invite_through_the_managers_page(page, live_server)
    links = emailed_links(live_server)
    ana = Invitation.objects.get(stakeholder__name="Ana Souza")
    luis = Invitation.objects.get(stakeholder__name="Luis Pérez")
    asked = client_questions(ana.round.version)

    # The respondents: on a phone, with no session of the product.
    phone = page.context.browser.new_context(viewport={"width": 360, "height": 740})
    respondent = phone.new_page()
    respondent.set_default_timeout(15_000)
    requested: list[str] = []
    respondent.on("request", lambda request: requested.append(request.url))

    respondent.goto(links["ana@aurora.example"])
    assert asked[0].client["text"]["pt-br"] in respondent.content()
    assert problems(respondent) == []  # axe-core: no serious or critical violation
    first = respondent.locator(f"#question-{asked[0].pk}")
    choose(respondent, first, 4)
    assert first.locator(".save-status").inner_text() == "Salvo"
    assert respondent.locator("#progress").inner_text() == "1 de 16 respondidas"
    # Nothing wider than the phone.
    assert respondent.evaluate("document.documentElement.scrollWidth") <= 360

    respondent.reload()
    assert respondent.locator(f"#question-{asked[0].pk} input[value='4']").is_checked()
    choose(respondent, respondent.locator(f"#question-{asked[1].pk}"), 2)
    respondent.get_by_role("button", name="Terminei").click()
    respondent.get_by_role("heading", name="Obrigado").wait_for()

    respondent.goto(links["luis@aurora.example"])
    assert asked[0].client["text"]["es"] in respondent.content()
    choose(respondent, respondent.locator(f"#question-{asked[0].pk}"), 5)
    assert respondent.locator(f"#question-{asked[0].pk} .save-status").inner_text() == "Guardado"

    assert dict(
        ClientAnswer.objects.filter(invitation=ana).values_list("question_id", "value")
    ) == {asked[0].pk: 4, asked[1].pk: 2}
    assert list(
        ClientAnswer.objects.filter(invitation=luis).values_list("question_id", "value")
    ) == [(asked[0].pk, 5)]
    ana.refresh_from_db()
    assert ana.finished_at is not None
    own = tuple(links.values())
    for url in requested:
        assert url.startswith((*own, f"{live_server.url}/static/")), url
    phone.close()

    # The manager sees both: who answered, and the gap. Process knowledge (pk-1 weighs 2,
    # pk-3 1): Ana (4, 2) → (2·0.75 + 0.25)/3 → level 3.33; Luis (5) → level 5; mean 4.2.
    page.reload()
    row = page.locator("tr", has_text="Ana Souza")
    assert "2 of 16" in row.inner_text()
    assert "Done" in row.inner_text()
    assert "1 of 16" in page.locator("tr", has_text="Luis Pérez").inner_text()
    gap = page.locator(".gap-table tr", has_text="Knowledge of the outsourced process")
    cells = gap.locator("td").all_inner_texts()
    assert cells[:3] == ["4.2", "±0.8", "2"]
    assert cells[3:] == ["—", "—"]  # no assessment of ours to compare with yet
