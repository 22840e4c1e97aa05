"""The questionnaire format's client wording: which questions the client's own people are
asked, in their words, with levels that mean what the supplier's levels mean."""

from __future__ import annotations

from typing import Any

import pytest

from assessments.defaults import default_document
from assessments.interchange import problems_in
from assessments.services import version_export, version_import
from tests.questionnaire_documents import levels, small_document, texts


def with_client_wording(**changes: Any) -> dict[str, Any]:
    document = small_document()
    question = document["dimensions"][0]["questions"][0]  # k-1, a scale
    question["client"] = {"text": texts("How well do you know it?"), "levels": levels()}
    for key, value in changes.items():
        question["client"][key] = value
    return document


def problems(document: dict[str, Any]) -> list[str]:
    return [str(problem) for problem in problems_in(document)]


def test_a_question_asked_of_the_client_keeps_its_wording_through_import_and_export(db):
    document = with_client_wording()
    assert problems(document) == []
    version = version_import(document=document, by=None)
    asked = version.questions.get(code="k-1")
    assert asked.asked_of_the_client
    assert asked.client["text"]["en"] == "How well do you know it?"
    assert not version.questions.get(code="k-2").asked_of_the_client
    exported = version_export(version)["dimensions"][0]["questions"]
    assert exported[0]["client"] == document["dimensions"][0]["questions"][0]["client"]
    assert "client" not in exported[1]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            with_client_wording(text={"en": "Only English"}),
            [
                "dimensions[0].questions[0].client.text.pt-br: translation is missing",
                "dimensions[0].questions[0].client.text.es: translation is missing",
            ],
        ),
        (
            with_client_wording(levels=levels()[:4]),
            ["dimensions[0].questions[0].client.levels: an anchored scale needs exactly 5 levels"],
        ),
        (
            with_client_wording(mood="friendly"),
            [
                "dimensions[0].questions[0].client.mood: unknown key; the client wording has "
                "text and levels"
            ],
        ),
        (
            with_client_wording(text=None),
            ["dimensions[0].questions[0].client.text: is required in en, pt-br and es"],
        ),
    ],
    ids=["a missing translation", "four levels", "an unknown key", "no text"],
)
def test_a_faulty_client_wording_is_refused_naming_the_field(document, expected):
    assert problems(document) == expected


def test_only_anchored_scales_are_asked_of_the_client():
    document = small_document()
    document["dimensions"][0]["questions"][1]["client"] = {"text": texts("Do you map it?")}
    assert problems(document) == [
        "dimensions[0].questions[1].client: only questions of type scale can be asked of the client"
    ]


def test_the_default_questionnaire_asks_the_client_about_every_dimension_tactfully():
    """Every maturity dimension has one or two questions for the client; each
    defensiveness dimension exactly one, worded without naming what it measures."""
    document = default_document()
    assert problems_in(document) == []
    for dimension in document["dimensions"]:
        asked = [q for q in dimension["questions"] if "client" in q]
        if dimension["kind"] == "maturity":
            assert 1 <= len(asked) <= 2, dimension["code"]
        else:
            assert len(asked) == 1, dimension["code"]
            for question in asked:
                wording = " ".join(
                    [
                        *question["client"]["text"].values(),
                        *(
                            text
                            for level in question["client"]["levels"]
                            for part in ("label", "description")
                            for text in level[part].values()
                        ),
                    ]
                ).lower()
                for word in ("defensiv", "desconfi", "suspicious", "rigid", "rígid"):
                    assert word not in wording, (question["code"], word)


def test_the_version_page_shows_how_the_client_is_asked(db, client, director):
    from django.urls import reverse

    from tests.factories import published_default_version

    version = published_default_version()
    asked = version.questions.get(code="pk-1")
    not_asked = version.questions.get(code="pk-2")
    client.force_login(director)
    page = client.get(reverse("assessments:version", args=[version.pk])).content.decode()
    assert page.count('class="client-wording"') == version.questions.exclude(client={}).count()
    assert asked.client["text"]["en"] in page
    assert asked.client["levels"][0]["description"]["en"] in page
    assert not_asked.text["en"] in page
    assert "also asked of the client" in page
