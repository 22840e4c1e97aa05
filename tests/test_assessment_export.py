"""The CSV export of a version's submitted assessments: rows and answers as submitted,
drafts left out, a fixed number of queries whatever the number of assessments, directors
only on the page and in the API, a byte-order mark for Excel."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from assessments.export import FIXED_COLUMNS, export_rows
from assessments.models import Assessment, AssessmentStatus
from assessments.selectors import questions_by_id
from assessments.services import (
    AnswerInput,
    answers_save,
    assessment_review,
    assessment_start,
    assessment_submit,
    version_import,
    version_publish,
)
from clients.models import ProcessType
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EngagementFactory,
    answer_everything,
    published_default_version,
)
from tests.questionnaire_documents import small_document

pytestmark = pytest.mark.django_db

BOM = "\ufeff".encode()


@pytest.fixture
def version():
    """The small questionnaire: k-1 scale, k-2 yes/no (N/A allowed), d-1 choice,
    d-2 number, d-3 optional text."""
    return version_publish(version=version_import(document=small_document(), by=None), by=None)


def started(version, *, client_name: str = "", process_type=ProcessType.COLLECTIONS):
    manager = AccountManagerFactory()
    client = (
        ClientFactory(owner=manager, name=client_name)
        if client_name
        else ClientFactory(owner=manager)
    )
    engagement = EngagementFactory(client=client, process_type=process_type)
    return assessment_start(engagement=engagement, by=manager, version=version)[0]


def answered(assessment, **values) -> Assessment:
    """Answer by question code; "N/A" answers not applicable."""
    codes = {q.code: q.pk for q in questions_by_id(assessment.version).values()}
    answers_save(
        assessment=assessment,
        by=assessment.assessor,
        answers=[
            AnswerInput(codes[code], not_applicable=True, na_reason="Back office only")
            if value == "N/A"
            else AnswerInput(codes[code], value)
            for code, value in values.items()
        ],
    )
    return assessment


def submitted(assessment) -> Assessment:
    return assessment_submit(assessment=assessment, by=assessment.assessor)


def parse(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_header_names_the_result_and_every_question_in_questionnaire_order(version):
    [header] = export_rows(version)
    assert header == [*FIXED_COLUMNS, "k-1", "k-2", "d-1", "d-2", "d-3"]
    assert header[:4] == ["assessment_id", "client", "engagement", "assessor"]


def test_rows_hold_each_submitted_assessment_with_its_answers(version):
    first = submitted(
        answered(
            started(version, client_name="Banco São João"),
            **{"k-1": 3, "k-2": "N/A", "d-1": "always", "d-2": 42.5, "d-3": 'Ação, "ok"'},
        )
    )
    second = submitted(
        answered(
            started(version, process_type=ProcessType.BACK_OFFICE),
            **{"k-1": 5, "k-2": False, "d-1": "never", "d-2": 0},
        )
    )
    director = DirectorFactory()
    assessment_review(assessment=second, by=director, approve=True)
    second.refresh_from_db()
    answered(started(version), **{"k-1": 1})  # a draft
    returned = submitted(
        answered(started(version), **{"k-1": 2, "k-2": True, "d-1": "never", "d-2": 1})
    )
    assessment_review(assessment=returned, by=director, approve=False, comment="Check k-1")
    # After the draft and the returned one, whose answers the merge must step over.
    last = submitted(
        answered(started(version), **{"k-1": 1, "k-2": True, "d-1": "never", "d-2": 99.25})
    )

    header, *rows = export_rows(version)

    assert [row[0] for row in rows] == [str(first.pk), str(second.pk), str(last.pk)]
    assert rows[2][-5:] == ["1", "yes", "never", "99.25", ""]
    rows = rows[:2]
    by_column = [dict(zip(header, row, strict=True)) for row in rows]
    assert [row["client"] for row in by_column] == [
        "Banco São João",
        second.engagement.client.name,
    ]
    assert [row["engagement"] for row in by_column] == ["Collections", "Back office"]
    assert by_column[0]["assessor"] == first.assessor.username
    assert [row["status"] for row in by_column] == ["submitted", "approved"]
    assert [row[code] for row in by_column for code in ("k-1", "k-2", "d-1", "d-2", "d-3")] == [
        "3", "N/A", "always", "42.5", "Ação, \"ok\"",
        "5", "no", "never", "0", "",
    ]  # fmt: skip
    for row, assessment in zip(by_column, (first, second), strict=True):
        assert float(row["maturity_score"]) == pytest.approx(assessment.maturity_score, abs=1e-6)
        assert row["maturity_level"] == str(assessment.maturity_level)
        assert float(row["defensiveness_index"]) == pytest.approx(
            assessment.defensiveness_index, abs=1e-6
        )
        assert row["quadrant"] == assessment.quadrant
        assert float(row["completeness"]) == pytest.approx(assessment.completeness, abs=1e-6)
        assert row["started_at"].startswith(assessment.created_at.astimezone().strftime("%Y-"))
        assert row["submitted_at"]


def test_the_default_questionnaire_exports_what_was_answered(db):
    version = published_default_version()
    assessment = started(version)
    answer_everything(assessment, level=2)
    submitted(assessment)
    header, row = export_rows(version)
    questions = list(questions_by_id(version).values())
    assert header[len(FIXED_COLUMNS) :] == [q.code for q in questions]
    expected = {"scale": "2", "yes_no": "yes", "text": "A note."}
    for question, cell in zip(questions, row[len(FIXED_COLUMNS) :], strict=True):
        if question.type == "choice":
            assert cell == question.options[-1]["code"]
        elif question.type in expected:
            assert cell == expected[question.type]


def test_the_page_streams_a_csv_with_a_byte_order_mark_for_excel(client, version):
    assessment = submitted(
        answered(
            started(version, client_name="Açaí Ltda."),
            **{"k-1": 4, "k-2": True, "d-1": "always", "d-2": 7},
        )
    )
    client.force_login(DirectorFactory())
    response = client.get(reverse("assessments:version_assessments_csv", args=[version.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="test-questionnaire-v{version.number}-assessments.csv"'
    )
    header, row = parse(b"".join(response.streaming_content))
    assert header[0] == "assessment_id"
    assert row[:3] == [str(assessment.pk), "Açaí Ltda.", "Collections"]
    assert row[-5:] == ["4", "yes", "always", "7", ""]


def test_labels_follow_the_directors_language(client, version):
    submitted(answered(started(version), **{"k-1": 4, "k-2": True, "d-1": "always", "d-2": 7}))
    client.force_login(DirectorFactory())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    response = client.get(reverse("assessments:version_assessments_csv", args=[version.pk]))
    [_, row] = parse(b"".join(response.streaming_content))
    assert row[2] == "Cobrança"


def test_an_empty_version_exports_only_the_header(client, version):
    client.force_login(DirectorFactory())
    response = client.get(reverse("assessments:version_assessments_csv", args=[version.pk]))
    assert len(parse(b"".join(response.streaming_content))) == 1


def test_the_export_costs_the_same_queries_for_3_and_30_assessments(client, count_queries):
    version = published_default_version()
    client.force_login(DirectorFactory())
    url = reverse("assessments:version_assessments_csv", args=[version.pk])

    def queries() -> tuple[int, int]:
        with count_queries() as captured:
            response = client.get(url)
            rows = len(parse(b"".join(response.streaming_content))) - 1
        return captured.count, rows

    def submit(count: int) -> None:
        for _ in range(count):
            assessment = started(version)
            answer_everything(assessment)
            submitted(assessment)

    submit(3)
    few, rows = queries()
    assert rows == 3
    submit(27)
    many, rows = queries()
    assert rows == 30
    assert many == few


def test_export_rows_alone_runs_three_queries(version, django_assert_num_queries):
    for level in (1, 2, 3):
        submitted(
            answered(started(version), **{"k-1": level, "k-2": True, "d-1": "never", "d-2": 1})
        )
    with django_assert_num_queries(3):
        rows = list(export_rows(version))
    assert len(rows) == 4


def test_account_managers_get_403_on_the_page(client, version):
    client.force_login(AccountManagerFactory())
    url = reverse("assessments:version_assessments_csv", args=[version.pk])
    assert client.get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, version):
    response = client.get(reverse("assessments:version_assessments_csv", args=[version.pk]))
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- API --------------------------------------------------------------------------------


def api_url(version) -> str:
    return reverse("questionnaire-version-assessments-csv", args=[version.pk])


def test_the_url_is_the_documented_one(version):
    assert api_url(version) == f"/api/v1/questionnaire-versions/{version.pk}/assessments.csv/"


def test_directors_download_the_csv_through_the_api(version):
    assessment = submitted(
        answered(started(version), **{"k-1": 4, "k-2": "N/A", "d-1": "always", "d-2": 7})
    )
    api = APIClient()
    api.force_authenticate(DirectorFactory())
    response = api.get(api_url(version))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    header, row = parse(b"".join(response.streaming_content))
    assert header[-5:] == ["k-1", "k-2", "d-1", "d-2", "d-3"]
    assert row[0] == str(assessment.pk)
    assert row[-5:] == ["4", "N/A", "always", "7", ""]


def test_the_api_answers_a_client_that_asks_for_text_csv(version):
    api = APIClient()
    api.force_authenticate(DirectorFactory())
    response = api.get(api_url(version), HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(BOM)


def test_without_the_trailing_slash_the_api_redirects_to_the_csv(version):
    api = APIClient()
    api.force_authenticate(DirectorFactory())
    response = api.get(f"/api/v1/questionnaire-versions/{version.pk}/assessments.csv")
    assert response.status_code == 301
    assert response["Location"].endswith(api_url(version))


def test_account_managers_get_403_in_the_api_format(version):
    api = APIClient()
    api.force_authenticate(AccountManagerFactory())
    for accept in ("application/json", "text/csv"):
        response = api.get(api_url(version), HTTP_ACCEPT=accept)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["type"] == "permission_denied"


def test_an_unknown_version_is_404_in_the_api(version):
    api = APIClient()
    api.force_authenticate(DirectorFactory())
    response = api.get(reverse("questionnaire-version-assessments-csv", args=[version.pk + 999]))
    assert response.status_code == 404
    assert response.json()["type"] == "not_found"


def test_anonymous_api_calls_get_401(version):
    assert APIClient().get(api_url(version)).status_code == 401


def test_a_draft_assessment_never_appears_in_the_api_export(version):
    answered(started(version), **{"k-1": 1})
    api = APIClient()
    api.force_authenticate(DirectorFactory())
    rows = parse(b"".join(api.get(api_url(version)).streaming_content))
    assert len(rows) == 1
    assert Assessment.objects.filter(status=AssessmentStatus.DRAFT).count() == 1


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted():
    from assessments.export import spreadsheet_safe

    assert spreadsheet_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert spreadsheet_safe("+55 11 9999") == "'+55 11 9999"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("-12.5") == "-12.5"
    assert spreadsheet_safe("Banco Sol") == "Banco Sol"
