"""Question types are registered once (assessments/question_types.py): a throwaway type,
registered with one line and given one template, is imported, filled in the browser's
form, validated, scored, described and exported — no other code knows about it."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.urls import reverse

from assessments import question_types
from assessments.export import export_rows
from assessments.interchange import problems_in
from assessments.models import Assessment, Question
from assessments.question_types import InvalidAnswer, QuestionType
from assessments.services import assessment_start, version_import, version_publish
from tests.factories import DirectorFactory, EngagementFactory
from tests.questionnaire_documents import small_document, texts

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


class Stars(QuestionType):
    """Zero to three stars: a closed set of whole numbers, scored by thirds."""

    code = "stars"
    label = "Stars 0–3"

    def parse(self, raw: str) -> Any:
        return raw.count("★") if raw and set(raw) == {"★"} else raw

    def trait(self, question: Any, value: Any) -> float:
        if isinstance(value, bool) or value not in (0, 1, 2, 3):
            raise InvalidAnswer(question.code, "from zero to three stars")
        return value / 3

    def table(self, question: Any) -> tuple[type, dict[Any, float]]:
        return int, {n: n / 3 for n in range(4)}

    def error(self, question: Any) -> str:
        return "Give from zero to three stars."

    def cell(self, text: str | None) -> str:
        return "★" * int(text or 0)

    def demo(self, question: Any, tendency: float, rng: random.Random) -> Any:
        return round((tendency - 1) / 4 * 3)


TEMPLATE = (
    '{% if mode == "fill" %}'
    '{% for n in "★★★" %}<label><input type="radio" name="value" value="{{ n }}"></label>'
    "{% endfor %}{% else %}<p>stars</p>{% endif %}"
)


@pytest.fixture
def stars(monkeypatch, settings, tmp_path):
    monkeypatch.setitem(question_types.TYPES, Stars.code, Stars())  # the registry line
    folder = tmp_path / "assessments" / "questions"
    folder.mkdir(parents=True)
    (folder / "stars.html").write_text(TEMPLATE)  # its one template
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]


def stars_document() -> dict[str, Any]:
    document = small_document("stars-questionnaire")
    document["dimensions"][0]["questions"].append(
        {"code": "k-stars", "type": "stars", "weight": 1, "text": texts("How many stars?")}
    )
    return document


def test_the_shipped_types_are_the_registry():
    assert question_types.codes() == ("scale", "choice", "yes_no", "number", "text")
    assert [code for code, _label in question_types.choices()] == list(question_types.codes())
    assert Question._meta.get_field("type").choices == question_types.choices()


def test_an_unregistered_type_is_refused_by_the_document_check():
    problems = [str(p) for p in problems_in(stars_document())]
    assert any("unknown question type 'stars'" in p for p in problems), problems


def test_a_throwaway_type_works_end_to_end(stars, client, manager_a, a_client):
    assert problems_in(stars_document()) == []
    version = version_publish(version=version_import(document=stars_document(), by=None), by=None)
    question = version.questions.get(code="k-stars")
    assert question.get_type_display() == "Stars 0–3"
    assessment, _created = assessment_start(
        engagement=EngagementFactory(client=a_client), by=manager_a, version=version
    )
    client.force_login(manager_a)

    # The form renders it with its template, and a bad answer is refused with its message.
    fill = reverse("assessments:fill", args=[assessment.pk])
    page = client.get(fill, {"section": "knowledge"}).content.decode()
    assert 'name="value" value="★"' in page
    answer = reverse("assessments:answer", args=[assessment.pk, question.pk])
    refused = client.post(answer, {"value": "4", "revision": "0"}, **HTMX)
    assert refused.status_code == 422
    assert "Give from zero to three stars." in refused.content.decode()
    assert client.post(answer, {"value": "★★", "revision": "0"}, **HTMX).status_code == 200
    assert assessment.answers.get(question=question).value == 2

    # Scored, with the rest answered at the top: 2 stars of 3 pull the dimension down.
    values = {"k-1": "5", "k-2": "yes", "d-1": "never", "d-2": "0"}
    for other in version.questions.exclude(code__in=["k-stars", "d-3"]):
        url = reverse("assessments:answer", args=[assessment.pk, other.pk])
        response = client.post(url, {"value": values[other.code], "revision": "0"}, **HTMX)
        assert response.status_code == 200, response.content
    client.post(reverse("assessments:submit", args=[assessment.pk]))
    assessment = Assessment.objects.get(pk=assessment.pk)
    knowledge = assessment.dimension_results.get(code="knowledge")
    # k-1 (weight 2) at 100, k-2 at 100, k-stars at 2/3: (200 + 100 + 66.7) / 4.
    assert knowledge.score == pytest.approx((200 + 100 + 200 / 3) / 4)

    # Described on the version's page, and exported with its own cell.
    client.force_login(DirectorFactory())
    described = client.get(reverse("assessments:version", args=[version.pk]))
    assert "<p>stars</p>" in described.content.decode()
    header, *rows = list(export_rows(version))
    assert rows[0][header.index("k-stars")] == "★★"
