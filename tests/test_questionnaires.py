"""Questionnaires: the document format, versions and their immutability, the default
questionnaire, the directors' pages, the commands and the read-only API."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from assessments.interchange import problems_in
from assessments.models import (
    Dimension,
    PublishedVersionIsImmutable,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.selectors import structure_for_version
from assessments.services import (
    DocumentProblems,
    version_copy_to_draft,
    version_export,
    version_import,
    version_publish,
)
from tests.factories import AccountManagerFactory, AdministratorFactory, DirectorFactory
from tests.questionnaire_documents import small_document

pytestmark = pytest.mark.django_db


def paths(document) -> set[str]:
    return {problem.path for problem in problems_in(document)}


# --- The document format ----------------------------------------------------------------


class TestDocumentProblems:
    def test_a_valid_document_has_no_problem(self):
        assert problems_in(small_document()) == []

    def test_an_unknown_question_type_is_named_with_its_path(self):
        document = small_document()
        document["dimensions"][1]["questions"][0]["type"] = "slider"
        [problem] = problems_in(document)
        assert problem.path == "dimensions[1].questions[0].type"
        assert "unknown question type 'slider'" in problem.message

    def test_a_negative_weight_is_refused(self):
        document = small_document()
        document["dimensions"][0]["questions"][1]["weight"] = -1
        assert paths(document) == {"dimensions[0].questions[1].weight"}

    def test_a_missing_translation_names_the_language(self):
        document = small_document()
        del document["dimensions"][0]["questions"][0]["levels"][3]["description"]["es"]
        assert paths(document) == {"dimensions[0].questions[0].levels[3].description.es"}

    def test_duplicate_codes_are_refused(self):
        document = small_document()
        document["dimensions"][1]["questions"][1]["code"] = "k-1"
        document["dimensions"][1]["code"] = "knowledge"
        assert paths(document) == {"dimensions[1].code", "dimensions[1].questions[1].code"}

    def test_every_problem_is_listed_at_once(self):
        document = small_document()
        document["dimensions"][1]["kind"] = "happiness"
        document["dimensions"][1]["questions"][1]["max"] = -5
        assert paths(document) == {"dimensions[1].kind", "dimensions[1].questions[1].max"}

    def test_a_scale_needs_five_anchored_levels(self):
        document = small_document()
        document["dimensions"][0]["questions"][0]["levels"].pop()
        assert paths(document) == {"dimensions[0].questions[0].levels"}


# --- Versions ---------------------------------------------------------------------------


class TestVersions:
    def test_an_import_is_a_new_draft_and_changes_nothing_when_malformed(self):
        first = version_import(document=small_document(), by=None)
        assert (first.number, first.status) == (1, VersionStatus.DRAFT)
        bad = small_document()
        bad["dimensions"][0]["questions"][0]["weight"] = -1
        before = (QuestionnaireVersion.objects.count(), Question.objects.count())
        with pytest.raises(DocumentProblems) as error:
            version_import(document=bad, by=None)
        assert "dimensions[0].questions[0].weight" in str(error.value)
        assert (QuestionnaireVersion.objects.count(), Question.objects.count()) == before

    def test_export_gives_back_what_was_imported(self):
        version = version_import(document=small_document(), by=None)
        exported = version_export(version)
        again = version_import(document=exported, by=None)
        assert version_export(again)["dimensions"] == exported["dimensions"]
        assert again.number == 2

    def test_publishing_retires_the_previous_version(self):
        first = version_publish(version=version_import(document=small_document(), by=None), by=None)
        second = version_publish(version=version_copy_to_draft(version=first, by=None), by=None)
        first.refresh_from_db()
        assert first.status == VersionStatus.RETIRED
        assert second.status == VersionStatus.PUBLISHED
        assert first.questionnaire.current_version() == second

    def test_a_copy_is_a_draft_based_on_the_original(self):
        published = version_publish(
            version=version_import(document=small_document(), by=None), by=None
        )
        draft = version_copy_to_draft(version=published, by=None)
        assert (draft.status, draft.based_on, draft.number) == (VersionStatus.DRAFT, published, 2)
        assert version_export(draft)["dimensions"] == version_export(published)["dimensions"]

    def test_a_published_version_refuses_every_change_at_the_model(self):
        version = version_publish(
            version=version_import(document=small_document(), by=None), by=None
        )
        question = version.questions.first()
        question.weight = 9
        with pytest.raises(PublishedVersionIsImmutable):
            question.save()
        with pytest.raises(PublishedVersionIsImmutable):
            version.dimensions.first().delete()
        assert version.questions.count() == 5

    def test_publishing_twice_is_refused(self):
        version = version_publish(
            version=version_import(document=small_document(), by=None), by=None
        )
        with pytest.raises(PublishedVersionIsImmutable):
            version_publish(version=version, by=None)

    def test_the_scoring_structure_follows_the_version(self):
        version = version_import(document=small_document(), by=None)
        structure = structure_for_version(version)
        assert [d.code for d in structure.dimensions] == ["knowledge", "distrust"]
        assert structure.dimensions[1].questions[0].options == {"never": 0.0, "always": 100.0}


# --- The default questionnaire -----------------------------------------------------------


def test_the_default_questionnaire_is_published_after_migrate():
    questionnaire = Questionnaire.objects.get(is_default=True)
    version = questionnaire.current_version()
    assert version is not None
    document = version_export(version)
    assert problems_in(document) == []
    kinds = [d["kind"] for d in document["dimensions"]]
    assert kinds.count("maturity") >= 6
    assert kinds.count("defensiveness") >= 4
    questions = [q for d in document["dimensions"] for q in d["questions"]]
    assert len(questions) >= 40
    scales = [q for q in questions if q["type"] == "scale"]
    assert all(len(q["levels"]) == 5 for q in scales)


# --- Pages ------------------------------------------------------------------------------


@pytest.fixture
def director_client(client):
    client.force_login(DirectorFactory())
    return client


@pytest.fixture
def published():
    return version_publish(version=version_import(document=small_document(), by=None), by=None)


@pytest.mark.parametrize("name", ["assessments:questionnaires", "assessments:import"])
def test_account_managers_cannot_open_the_questionnaire_pages(client, name):
    client.force_login(AccountManagerFactory())
    assert client.get(reverse(name)).status_code == 403


def test_account_managers_cannot_change_a_version(client, published):
    client.force_login(AccountManagerFactory())
    for name in ("assessments:version", "assessments:version_edit"):
        assert client.get(reverse(name, args=[published.pk])).status_code == 403
    assert client.post(reverse("assessments:version_copy", args=[published.pk])).status_code == 403
    assert QuestionnaireVersion.objects.filter(questionnaire=published.questionnaire).count() == 1


def test_a_director_reads_a_version_in_any_language(director_client, published):
    url = reverse("assessments:version", args=[published.pk])
    assert "Knows? (pt)" in director_client.get(url, {"lang": "pt-br"}).content.decode()
    assert "Looks like 3 (es)" in director_client.get(url, {"lang": "es"}).content.decode()


def test_a_published_version_cannot_be_edited_through_the_pages(director_client, published):
    url = reverse("assessments:version_edit", args=[published.pk])
    document = version_export(published)
    document["dimensions"][0]["weight"] = 5
    response = director_client.post(url, {"document": json.dumps(document)})
    assert response.status_code == 302
    assert Dimension.objects.get(version=published, code="knowledge").weight == 1


def test_a_director_copies_edits_and_publishes_a_draft(director_client, published):
    response = director_client.post(reverse("assessments:version_copy", args=[published.pk]))
    draft = QuestionnaireVersion.objects.get(status=VersionStatus.DRAFT)
    assert response["Location"] == reverse("assessments:version", args=[draft.pk])
    document = version_export(draft)
    document["dimensions"][0]["weight"] = 3
    director_client.post(
        reverse("assessments:version_edit", args=[draft.pk]), {"document": json.dumps(document)}
    )
    assert Dimension.objects.get(version=draft, code="knowledge").weight == 3
    director_client.post(reverse("assessments:version_publish", args=[draft.pk]))
    draft.refresh_from_db()
    published.refresh_from_db()
    assert (draft.status, published.status) == (VersionStatus.PUBLISHED, VersionStatus.RETIRED)


def test_a_bad_draft_edit_lists_the_problems_and_keeps_the_text(director_client, published):
    draft = version_copy_to_draft(version=published, by=None)
    document = version_export(draft)
    document["dimensions"][0]["questions"][0]["type"] = "slider"
    text = json.dumps(document)
    response = director_client.post(
        reverse("assessments:version_edit", args=[draft.pk]), {"document": text}
    )
    body = response.content.decode()
    assert "dimensions[0].questions[0].type" in body
    assert "slider" in body
    broken = director_client.post(
        reverse("assessments:version_edit", args=[draft.pk]), {"document": "{oops"}
    )
    assert "not valid JSON" in broken.content.decode()
    assert "{oops" in broken.content.decode()
    assert Question.objects.get(version=draft, code="k-1").type == "scale"


def test_a_director_imports_a_file_as_a_draft(director_client):
    upload = SimpleUploadedFile(
        "q.json", json.dumps(small_document("imported")).encode(), "application/json"
    )
    response = director_client.post(reverse("assessments:import"), {"file": upload})
    version = QuestionnaireVersion.objects.get(questionnaire__code="imported")
    assert response["Location"] == reverse("assessments:version", args=[version.pk])
    assert version.status == VersionStatus.DRAFT


def test_a_malformed_upload_imports_nothing_and_says_where(director_client):
    document = small_document("imported")
    del document["questionnaire"]["name"]["pt-br"]
    upload = SimpleUploadedFile("q.json", json.dumps(document).encode(), "application/json")
    response = director_client.post(reverse("assessments:import"), {"file": upload})
    assert "questionnaire.name.pt-br: translation is missing" in response.content.decode()
    assert not Questionnaire.objects.filter(code="imported").exists()


def test_the_export_download_is_the_document(director_client, published):
    response = director_client.get(reverse("assessments:version_export", args=[published.pk]))
    assert json.loads(response.content)["dimensions"] == version_export(published)["dimensions"]


# --- Admin ------------------------------------------------------------------------------


def test_a_published_version_cannot_be_edited_in_the_admin(client, published):
    client.force_login(AdministratorFactory(is_superuser=True))
    question = published.questions.get(code="k-1")
    url = f"/admin/assessments/question/{question.pk}/change/"
    assert client.post(url, {"weight": 9, "text": "{}"}).status_code == 403
    question.refresh_from_db()
    assert question.weight == 2
    assert (
        client.post(
            f"/admin/assessments/question/{question.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert Question.objects.filter(pk=question.pk).exists()


# --- Commands ---------------------------------------------------------------------------


def test_the_commands_round_trip_a_version(tmp_path, published):
    target = tmp_path / "out.json"
    call_command(
        "questionnaire_export",
        published.questionnaire.code,
        "-o",
        str(target),
        stderr=io.StringIO(),
    )
    out = io.StringIO()
    call_command("questionnaire_import", str(target), "--publish", stdout=out)
    assert "v2" in out.getvalue()
    assert published.questionnaire.current_version().number == 2


def test_the_export_command_names_what_it_cannot_find(published):
    code = published.questionnaire.code
    with pytest.raises(CommandError, match="It has no version 99"):
        call_command("questionnaire_export", code, "--number", "99")
    with pytest.raises(CommandError, match="No questionnaire with code 'nope'"):
        call_command("questionnaire_export", "nope")
    out = io.StringIO()
    call_command("questionnaire_export", code, "--number", str(published.number), stdout=out)
    assert json.loads(out.getvalue())["questionnaire"]["code"] == code


def test_a_malformed_file_fails_the_import_command_and_changes_nothing(tmp_path):
    document = small_document("broken")
    document["dimensions"][0]["questions"][0]["weight"] = -1
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("questionnaire_import", str(path), stderr=err)
    assert "dimensions[0].questions[0].weight" in err.getvalue()
    assert not Questionnaire.objects.filter(code="broken").exists()


# --- API --------------------------------------------------------------------------------


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(AccountManagerFactory())
    return client


def test_everyone_signed_in_reads_questionnaires_through_the_api(api, published):
    body = api.get("/api/v1/questionnaires/").json()
    codes = [row["code"] for row in body["results"]]
    assert published.questionnaire.code in codes


def test_a_version_comes_with_its_whole_structure(api, published):
    body = api.get(f"/api/v1/questionnaire-versions/{published.pk}/").json()
    assert [d["code"] for d in body["dimensions"]] == ["knowledge", "distrust"]
    assert (
        body["dimensions"][0]["questions"][0]["levels"][4]["description"]["es"]
        == "Looks like 5 (es)"
    )


def test_the_api_is_read_only(api, published):
    url = f"/api/v1/questionnaire-versions/{published.pk}/"
    assert api.patch(url, {"status": "draft"}, format="json").status_code == 405
    assert api.delete(url).status_code == 405
    assert api.post("/api/v1/questionnaire-versions/", {}, format="json").status_code == 405
    published.refresh_from_db()
    assert published.status == VersionStatus.PUBLISHED


def test_reading_a_version_costs_the_same_queries_whatever_its_size(api, count_queries):
    def queries(dimensions: int) -> int:
        document = small_document(f"size-{dimensions}")
        template = document["dimensions"][0]
        document["dimensions"] = [
            {
                **template,
                "code": f"dim-{i}",
                "questions": [{**q, "code": f"{q['code']}-{i}"} for q in template["questions"]],
            }
            for i in range(dimensions)
        ]
        version = version_publish(version=version_import(document=document, by=None), by=None)
        with count_queries() as captured:
            assert api.get(f"/api/v1/questionnaire-versions/{version.pk}/").status_code == 200
        return captured.count

    assert queries(2) == queries(12)


def test_a_director_tunes_a_drafts_weights_and_flags(director_client, published):
    draft = version_copy_to_draft(version=published, by=None)
    url = reverse("assessments:version_tune", args=[draft.pk])
    form = {
        "dimension-knowledge-weight": "2,5",
        "dimension-distrust-weight": "1",
        "question-k-1-weight": "3",
        "question-k-1-required": "on",
        "question-k-2-weight": "1",
        "question-k-2-reverse": "on",
        "question-d-1-weight": "1",
        "question-d-1-required": "on",
        "question-d-2-weight": "1",
        "question-d-3-weight": "1",
        "question-d-3-reverse": "on",
    }
    assert director_client.post(url, form).status_code == 302
    document = version_export(draft)
    knowledge, distrust = document["dimensions"]
    assert knowledge["weight"] == 2.5
    assert (knowledge["questions"][0]["weight"], knowledge["questions"][0]["required"]) == (3, True)
    assert knowledge["questions"][1]["reverse"] is True
    assert knowledge["questions"][1]["required"] is False
    assert knowledge["questions"][1]["allow_na"] is False
    assert distrust["questions"][2]["reverse"] is False  # free text is never reversed


def test_a_bad_weight_is_refused_and_the_typed_values_stay(director_client, published):
    draft = version_copy_to_draft(version=published, by=None)
    url = reverse("assessments:version_tune", args=[draft.pk])
    response = director_client.post(
        url,
        {
            "dimension-knowledge-weight": "-1",
            "question-k-1-weight": "7",
            "dimension-distrust-weight": "1",
        },
    )
    body = response.content.decode()
    assert "A weight is a number greater than 0" in body
    assert 'value="7"' in body
    assert version_export(draft)["dimensions"][0]["weight"] == 1


def test_a_published_version_cannot_be_tuned(director_client, published):
    response = director_client.post(
        reverse("assessments:version_tune", args=[published.pk]),
        {"dimension-knowledge-weight": "9"},
    )
    assert response.status_code == 302
    assert version_export(published)["dimensions"][0]["weight"] == 1


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda d: d["dimensions"][0]["questions"][0].update(weight=float("inf")),
            "dimensions[0].questions[0].weight",
        ),
        (lambda d: d["dimensions"][0].update(weight=10**400), "dimensions[0].weight"),
        (
            lambda d: d["dimensions"][0]["questions"][0].update(weight=101),
            "dimensions[0].questions[0].weight",
        ),
        (
            lambda d: d["dimensions"][1]["questions"][1].update(max=float("inf")),
            "dimensions[1].questions[1].min",
        ),
        (lambda d: d["dimensions"][0].update(code="knowledge\n"), "dimensions[0].code"),
        (lambda d: d["questionnaire"]["name"].update(en=5), "questionnaire.name.en"),
    ],
)
def test_values_that_would_break_scoring_or_storage_are_refused(change, path):
    document = small_document()
    change(document)
    assert path in paths(document)


def test_content_cannot_move_from_one_version_to_another():
    first = version_import(document=small_document(), by=None)
    second = version_import(document=small_document(), by=None)
    dimension = first.dimensions.get(code="knowledge")
    dimension.version = second
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        dimension.save()


def test_account_managers_do_not_see_draft_versions_in_the_api(api, published):
    draft = version_copy_to_draft(version=published, by=None)
    assert api.get(f"/api/v1/questionnaire-versions/{draft.pk}/").status_code == 404
    assert api.get(f"/api/v1/questionnaire-versions/{published.pk}/").status_code == 200
    director_api = APIClient()
    director_api.force_authenticate(DirectorFactory())
    assert director_api.get(f"/api/v1/questionnaire-versions/{draft.pk}/").status_code == 200
