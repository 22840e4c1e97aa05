"""The client report: levels, dimensions, trend, plan and what was achieved, printable
and as a server-made PDF, in the reader's language, for those who may see the client."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from assessments.models import Assessment
from education.api import CompleteSerializer
from education.models import ActionStatus
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    EducationActionFactory,
    EngagementFactory,
    submitted_assessment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported():
    manager = AccountManagerFactory(language="pt-br")
    client = ClientFactory(name="Banco Horizonte", owner=manager)
    engagement = EngagementFactory(client=client)
    EngagementFactory(client=client, process_type="retention")  # not assessed yet
    first = submitted_assessment(engagement, level=1)
    latest = submitted_assessment(engagement, level=3)
    EducationActionFactory(
        engagement=engagement,
        title="Workshop de indicadores",
        status=ActionStatus.DONE,
        outcome="Metas de TMA acordadas com a operação.",
        completed_at=timezone.now(),
        uplift=6.5,
    )
    EducationActionFactory(engagement=engagement, title="Visita ao site")
    return {"manager": manager, "client": client, "first": first, "latest": latest}


def test_the_report_page_shows_levels_dimensions_trend_and_the_plan(client, reported):
    client.force_login(reported["manager"])
    response = client.get(reverse("reports:client", args=[reported["client"].pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Banco Horizonte" in body
    assert "Relatório de maturidade e educação" in body  # the manager's language
    assert "Workshop de indicadores" in body
    assert "Metas de TMA acordadas" in body
    assert "Visita ao site" in body
    assert "Ainda não avaliado." in body  # the retention engagement
    assert 'class="trend-maturity"' in body  # drawn on the server: prints without script
    report = response.context["report"]
    item = report.engagements[0]
    assert item.latest.pk == reported["latest"].pk
    assert item.maturity_change == round(
        reported["latest"].maturity_score - reported["first"].maturity_score, 1
    )
    # The client's version (the default): maturity dimensions only.
    scores = {d.code: d.score for d in item.dimensions}
    expected = dict(
        reported["latest"].dimension_results.filter(kind="maturity").values_list("code", "score")
    )
    assert scores == {code: round(value, 1) for code, value in expected.items()}


def test_the_clients_version_speaks_to_the_client_and_the_teams_keeps_everything(client, reported):
    """What the client reads has no advice meant for the team and does not tell it how
    guarded it is; the team's version has both; only a director adds defensiveness to the
    client's version."""
    from assessments.labels import QUADRANT_HINTS
    from tests.factories import DirectorFactory

    url = reverse("reports:client", args=[reported["client"].pk])
    pdf_url = reverse("reports:client_pdf", args=[reported["client"].pk])
    quadrant = reported["latest"].quadrant
    client.force_login(reported["manager"])
    with translation.override("pt-br"):
        hint = str(QUADRANT_HINTS[quadrant])
        guarded = translation.gettext("Defensiveness")

    def reads(response) -> str:
        return response.content.decode()

    def pdf_text(response) -> str:
        pages = PdfReader(io.BytesIO(response.content)).pages
        return " ".join(" ".join(page.extract_text() for page in pages).split())

    for text in (reads(client.get(url)), pdf_text(client.get(pdf_url))):
        assert hint not in text
        assert guarded not in text
    # A manager cannot add it; the team's version has it all.
    assert guarded not in reads(client.get(url, {"defensiveness": "1"}))
    for text in (
        reads(client.get(url, {"audience": "team"})),
        pdf_text(client.get(pdf_url, {"audience": "team"})),
    ):
        assert hint in text
        assert guarded in text
    client.force_login(DirectorFactory(language="pt-br"))
    with_it = reads(client.get(url, {"defensiveness": "1"}))
    assert guarded in with_it
    assert hint not in with_it
    assert f"{pdf_url}?defensiveness=1" in with_it


def test_report_bars_are_drawn_to_scale(client, reported):
    import re

    client.force_login(reported["manager"])
    page = client.get(reverse("reports:client", args=[reported["client"].pk]))
    widths = [
        float(w)
        for w in re.findall(r'class="report-bar-maturity" width="([0-9.]+)"', page.content.decode())
    ]
    scores = [d.score for d in page.context["report"].engagements[0].dimensions]
    assert widths == scores
    assert "max-width" not in re.search(
        r"\.report-track \{[^}]*\}", (settings.BASE_DIR / "static/css/maturity.css").read_text()
    ).group(0)


@pytest.mark.parametrize("done", range(0, 16, 3))
def test_a_heading_never_ends_a_page_of_the_pdf(client, reported, done):
    """Whatever the length of what comes before, "Next steps" and "What we did together"
    are printed on the page of their table's first row."""
    for n in range(done):
        EducationActionFactory(
            engagement=reported["latest"].engagement,
            title=f"Revisão de negócio {n}",
            status=ActionStatus.DONE,
            outcome="Acordo sobre as metas do trimestre e a leitura dos indicadores. " * 3,
            completed_at=timezone.now(),
        )
    client.force_login(reported["manager"])
    pdf = client.get(reverse("reports:client_pdf", args=[reported["client"].pk]))
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages]
    for heading, first_row in (
        ("Próximos passos", "Visita ao site"),
        ("O que fizemos juntos", "Ação"),
    ):
        page = next(p for p in pages if heading in p)
        after = page.split(heading, 1)[1]
        assert first_row in after, (heading, done)


def test_the_pdf_is_made_on_the_server_in_the_readers_language(client, reported):
    client.force_login(reported["manager"])
    response = client.get(reverse("reports:client_pdf", args=[reported["client"].pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Banco Horizonte" in text
    assert "Relatório de maturidade e educação" in text
    assert "Workshop de indicadores" in text
    assert "Próximos passos" in text


def test_nobody_else_gets_the_report(client, reported):
    client.force_login(AccountManagerFactory())
    for name in ("reports:client", "reports:client_pdf"):
        assert client.get(reverse(name, args=[reported["client"].pk])).status_code == 404
    client.logout()
    response = client.get(reverse("reports:client_pdf", args=[reported["client"].pk]))
    assert response.status_code == 302


def test_a_client_never_assessed_gets_a_report_that_says_so(client):
    manager = AccountManagerFactory(language="en")
    newcomer = ClientFactory(owner=manager)
    EngagementFactory(client=newcomer)
    client.force_login(manager)
    page = client.get(reverse("reports:client", args=[newcomer.pk]))
    assert "No assessment has been completed yet." in page.content.decode()
    pdf = client.get(reverse("reports:client_pdf", args=[newcomer.pk]))
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "No assessment has been completed yet." in text


def test_a_report_whose_scores_are_all_empty_still_makes_a_pdf(client, reported):
    from assessments.models import Assessment

    Assessment.objects.filter(engagement__client=reported["client"]).update(
        maturity_score=None, defensiveness_index=None, maturity_level=None
    )
    client.force_login(reported["manager"])
    assert client.get(reverse("reports:client", args=[reported["client"].pk])).status_code == 200
    response = client.get(reverse("reports:client_pdf", args=[reported["client"].pk]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_pdf_numbers_are_rounded_in_the_readers_locale(reported):
    from django.utils import translation

    from dashboards.pdf import _number, _signed

    with translation.override("pt-br"):
        assert _number(27.569) == "27,6"
        assert _signed(8.46) == "+8,5"
        assert _signed(-1.04) == "-1,0"
    with translation.override("en"):
        assert _number(27.569) == "27.6"


# --- Long texts: whatever the API accepts, the PDF prints whole, across as many pages as
# it takes (a row taller than a page used to stop the whole report with a LayoutError).

OUTCOME_LIMIT = CompleteSerializer().fields["outcome"].max_length
# Repeated at the top of every page a table runs onto, so they may sit inside a long text.
HEADERS = ("AçãoFeitaemResultado", "DimensãoPontuaçãoAntesVariação")


def _flat(text: str) -> str:
    """The text without whitespace: the PDF wraps lines wherever they fit."""
    return "".join(text.split())


def _pdf(client, reported):
    client.force_login(reported["manager"])
    return client.get(reverse("reports:client_pdf", args=[reported["client"].pk]))


def _pages(response) -> int:
    return len(PdfReader(io.BytesIO(response.content)).pages)


def _printed(response) -> str:
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = _flat("".join(page.extract_text() for page in pages))
    for header in HEADERS:
        text = text.replace(header, "")
    return text


def _complete(api, reported, outcome: str) -> None:
    """Done through the API, so the outcome is one the API accepts."""
    action = EducationActionFactory(
        engagement=reported["latest"].engagement, title="Oficina de escalonamento"
    )
    api.force_login(reported["manager"])
    response = api.post(
        f"/api/v1/education-actions/{action.pk}/complete/", {"outcome": outcome}, format="json"
    )
    assert response.status_code == 200, response.content


def _prose(length: int) -> str:
    sentences = " ".join(
        f"Acordo {n}: a operação revisa a meta de TMA e envia o relatório." for n in range(length)
    )
    return sentences[: length - 1] + "."


def _word(length: int) -> str:
    """One word without a space, its parts numbered so a piece lost or out of order shows
    (in letters, "segmentoaabc": a table prints numbers beside it)."""
    letters = str.maketrans("0123456789", "abcdefghij")
    return "".join(f"segmento{n:04d}".translate(letters) for n in range(length))[:length]


def test_an_outcome_as_long_as_the_api_accepts_is_printed_whole(client, api, reported):
    outcome = _prose(OUTCOME_LIMIT)
    assert len(outcome) == OUTCOME_LIMIT
    _complete(api, reported, outcome)
    response = _pdf(client, reported)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert _flat(outcome) in _printed(response)


def test_a_single_word_as_long_as_the_api_accepts_is_printed_whole(client, api, reported):
    word = _word(OUTCOME_LIMIT)
    _complete(api, reported, word)
    response = _pdf(client, reported)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert word in _printed(response)


def test_a_long_outcome_runs_onto_more_pages_than_the_usual_report(client, api, reported):
    usual = _pages(_pdf(client, reported))
    _complete(api, reported, _prose(OUTCOME_LIMIT))
    response = _pdf(client, reported)
    assert response.status_code == 200
    assert _pages(response) > usual


def _rename_dimensions(assessment, names: list[str]) -> None:
    """The result snapshot the report reads, as a questionnaire with these dimensions would
    leave it: the questionnaire format limits neither their names nor their number."""
    result = assessment.result
    model = result["dimensions"][0]
    result["dimensions"] = [
        {**model, "code": f"d{n}", "name": {"en": name, "pt-br": name, "es": name}}
        for n, name in enumerate(names)
    ]
    Assessment.objects.filter(pk=assessment.pk).update(result=result)


def test_a_dimension_name_of_any_length_is_printed_whole(client, reported):
    name = _word(OUTCOME_LIMIT)
    _rename_dimensions(reported["latest"], ["Governança", name])
    response = _pdf(client, reported)
    assert response.status_code == 200
    printed = _printed(response)
    assert name[:39] + "…" in printed  # the chart's label, cut to fit beside its bar
    # Whole in the table, where the row's scores print after the name's first lines.
    assert name in "".join(filter(str.isalpha, printed))


def test_any_number_of_dimensions_is_charted_and_listed(client, reported):
    names = [f"Dimensão {n:02d}" for n in range(90)]  # more bars than a page holds
    _rename_dimensions(reported["latest"], names)
    response = _pdf(client, reported)
    assert response.status_code == 200
    printed = _printed(response)
    assert [printed.count(_flat(name)) for name in names] == [2] * 90  # a bar and a row


def test_the_clients_view_is_summarised_in_the_report_worded_for_its_reader(client, reported):
    """Two respondents: governance (gov-1, gov-2) at 5 and at 4 → levels 5.0 and 4.0, mean
    4.5 beside our 3.0, +1.5; one also answers a neutrally worded defensiveness question,
    shown only in the team's version. Nobody's name is printed."""
    import re
    from datetime import timedelta
    from html import unescape

    from tests.factories import StakeholderFactory
    from voice.services import (
        client_answer_save,
        client_questions,
        invitation_create,
        round_open,
    )

    manager, engagement = reported["manager"], reported["latest"].engagement
    manager.language = "en"
    manager.save(update_fields=["language"])
    round_ = round_open(
        engagement=engagement, by=manager, closes_on=timezone.localdate() + timedelta(days=9)
    )
    asked = {q.code: q for q in client_questions(round_.version)}
    for name, level in (("Ana Souza", 5), ("Bia Lima", 4)):
        person = StakeholderFactory(
            client=reported["client"], name=name, email=f"{level}@b.example"
        )
        invitation, _ = invitation_create(
            round=round_, stakeholder=person, language="pt-br", by=manager
        )
        for code in ("gov-1", "gov-2", *(("dc-1",) if level == 5 else ())):
            client_answer_save(
                invitation=invitation, question_id=asked[code].pk, value=level, revision=None
            )
    client.force_login(manager)
    url = reverse("reports:client", args=[reported["client"].pk])
    for audience, title, rows in (
        ("", "Your view and ours", 1),
        ("team", "The client's view and ours", 2),
    ):
        html = unescape(
            client.get(url, {"audience": audience} if audience else {}).content.decode()
        )
        assert f"<h3>{title}</h3>" in html
        table = re.search(r'<table class="report-views">.*?</table>', html, re.S).group(0)
        assert table.count('<th scope="row">') == rows
        assert re.search(r"<td>4\.5</td>\s*<td>3\.0</td>\s*<td><strong>\+1\.5</strong>", table)
        assert "Ana Souza" not in html
        assert "Bia Lima" not in html
    assert "2 people in your organisation answered" in client.get(url).content.decode()
    assert "you see it higher" in client.get(url).content.decode()
    pdf = client.get(reverse("reports:client_pdf", args=[reported["client"].pk]))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Your view and ours" in text
    assert "+1.5" in text
    assert "Ana Souza" not in text
