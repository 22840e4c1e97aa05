"""Importing clients from CSV: the parser, the all-or-nothing import, the command and the
directors' upload page."""

from __future__ import annotations

import csv
import io
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from clients import importing
from clients.importing import (
    COLUMNS,
    EXAMPLE_ROW,
    RowError,
    choice_lookup,
    detect_delimiter,
    import_clients,
    normalise_header,
    parse_csv,
    split_usernames,
)
from clients.models import NOTE_MAX_LENGTH, AuditAction, AuditEvent, Client, Segment
from tests.factories import (
    AccountManagerFactory,
    AdministratorFactory,
    ClientFactory,
    DirectorFactory,
)


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    columns: tuple[str, ...] = COLUMNS,
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def a_row(**cells: str) -> dict[str, str]:
    return {
        "name": "Banco Horizonte",
        "segment": "banking",
        "size": "large",
        "country": "BR",
        "owner": "ana",
        **cells,
    }


def located(errors: tuple[RowError, ...]) -> set[tuple[int | None, str]]:
    return {(error.line, error.column) for error in errors}


@pytest.fixture
def ana(db):
    return AccountManagerFactory(username="ana")


@pytest.fixture
def team(db):
    return [AccountManagerFactory(username="bruno"), DirectorFactory(username="carla")]


@pytest.fixture
def director(db):
    return DirectorFactory(username="diana")


# --- Pure helpers: no database ------------------------------------------------------------


def test_a_header_with_more_semicolons_than_commas_is_semicolon_delimited():
    assert detect_delimiter("name;segment;notes, more") == ";"
    assert detect_delimiter("name,segment,size") == ","


def test_header_names_ignore_case_spaces_and_hyphens():
    assert normalise_header(" Team Members ") == "team_members"
    assert normalise_header("LEGAL-NAME") == "legal_name"


def test_team_usernames_split_on_pipes_or_commas_without_blanks_or_repeats():
    assert split_usernames(" bruno | carla,bruno,, ") == ["bruno", "carla"]
    assert split_usernames("") == []


def test_choices_accept_the_stored_value_or_the_english_label_in_any_case():
    lookup = choice_lookup(Segment)
    assert lookup["banking"] == "banking"
    assert lookup["banking and financial services"] == "banking"


def test_line_numbers_count_spreadsheet_rows_not_line_breaks_inside_cells():
    data = csv_bytes([a_row(notes="first\nsecond"), {}, a_row(name="Other")])
    rows, errors = parse_csv(data)
    assert errors == []
    assert [row.line for row in rows] == [2, 4]


def test_a_row_with_more_cells_than_the_header_is_reported():
    data = b"name,segment,size,country,owner\nAcme,banking,large,BR,ana,surplus\n"
    _rows, errors = parse_csv(data)
    assert located(tuple(errors)) == {(2, "")}


def test_an_unknown_column_is_reported_on_the_header_line():
    data = csv_bytes([a_row()], columns=(*COLUMNS, "website"))
    _rows, errors = parse_csv(data)
    assert located(tuple(errors)) == {(1, "website")}


def test_an_empty_file_is_reported():
    _rows, errors = parse_csv(b"")
    assert [error.message for error in errors] == ["The file is empty."]


def test_a_header_without_rows_is_reported():
    _rows, errors = parse_csv(csv_bytes([]))
    assert "no clients" in errors[0].message


def test_non_utf8_bytes_are_reported_with_their_line():
    data = csv_bytes([a_row()]) + "Caf\xe9 Paulista,banking,large,BR,ana\r\n".encode("latin-1")
    _rows, errors = parse_csv(data)
    assert len(errors) == 1
    assert errors[0].line == 3
    assert "UTF-8" in errors[0].message


def test_a_file_over_the_size_limit_is_refused_before_reading_it(monkeypatch):
    monkeypatch.setattr(importing, "MAX_BYTES", 100)
    _rows, errors = parse_csv(csv_bytes([a_row(notes="x" * 200)]))
    assert errors[0].line is None
    assert "larger than" in errors[0].message


def test_a_file_over_the_row_limit_is_refused(monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 2)
    data = csv_bytes([a_row(name=f"Client {n}") for n in range(3)])
    _rows, errors = parse_csv(data)
    assert len(errors) == 1
    assert "more than 2 rows" in errors[0].message


# --- The import ---------------------------------------------------------------------------


def test_a_valid_file_imports_every_row_with_its_owner_and_team(ana, team, director):
    data = csv_bytes(
        [
            a_row(name="Banco Horizonte", team_members="bruno|carla", notes="Met in May."),
            a_row(name="Varejo Sul", segment="retail", size="small", country="AR"),
        ]
    )
    result = import_clients(data, by=director)
    assert result.created == 2
    assert result.errors == ()
    banco = Client.objects.get(name="Banco Horizonte")
    assert banco.owner == ana
    assert set(banco.team_members.all()) == set(team)
    assert banco.notes == "Met in May."
    assert Client.objects.get(name="Varejo Sul").team_members.count() == 0


def test_each_imported_client_gets_an_imported_event_by_the_importer(ana, director):
    import_clients(csv_bytes([a_row(name="A"), a_row(name="B")]), by=director)
    events = AuditEvent.objects.filter(action=AuditAction.IMPORTED)
    assert sorted(event.subject for event in events) == ["A", "B"]
    assert {event.actor for event in events} == {director}


def test_a_semicolon_delimited_file_with_a_bom_and_labels_imports(ana):
    rows = [
        a_row(
            name="Seguradora Andina",
            segment="Insurance",
            size="ENTERPRISE",
            country="brazil",
            team_members="ana",
        )
    ]
    result = import_clients(csv_bytes(rows, delimiter=";", bom=True), by=None)
    assert result.ok
    client = Client.objects.get()
    assert (client.segment, client.size, client.country) == ("insurance", "enterprise", "BR")


@pytest.mark.parametrize(
    ("bad_cells", "column", "message"),
    [
        pytest.param({"name": ""}, "name", "This field is required.", id="missing name"),
        pytest.param({"owner": "nobody"}, "owner", "“nobody”", id="unknown owner"),
        pytest.param(
            {"owner": "diana"}, "owner", "active account manager", id="owner is a director"
        ),
        pytest.param({"segment": "mining"}, "segment", "mining", id="unknown segment"),
        pytest.param({"team_members": "ghost"}, "team_members", "“ghost”", id="unknown member"),
        pytest.param({"name": "FIRST CLIENT"}, "name", "line 2", id="name repeated in the file"),
        pytest.param(
            {"name": "existing client"}, "name", "already exists", id="name already in database"
        ),
        pytest.param(
            {"notes": "x" * (NOTE_MAX_LENGTH + 1)}, "notes", "at most", id="notes too long"
        ),
    ],
)
def test_a_bad_row_is_reported_on_its_line_and_column_and_nothing_is_imported(
    ana, director, bad_cells, column, message
):
    ClientFactory(name="Existing Client")
    data = csv_bytes(
        [
            a_row(name="First Client"),
            a_row(**{"name": "Second Client", **bad_cells}),
            a_row(name="Third"),
        ]
    )
    result = import_clients(data, by=director)
    assert result.created == 0
    assert located(result.errors) == {(3, column)}
    assert message in result.errors[0].message
    assert list(Client.objects.values_list("name", flat=True)) == ["Existing Client"]


def test_every_bad_row_is_reported_not_just_the_first(ana):
    data = csv_bytes([a_row(name="A", owner="x"), a_row(name="B", size="huge"), a_row(name="C")])
    result = import_clients(data, by=None)
    assert located(result.errors) == {(2, "owner"), (3, "size")}


def test_a_missing_required_column_is_reported_once_on_line_one(ana):
    columns = tuple(column for column in COLUMNS if column != "owner")
    result = import_clients(csv_bytes([a_row(), a_row(name="B")], columns=columns), by=None)
    assert located(result.errors) == {(1, "owner")}
    assert not Client.objects.exists()


def test_a_name_taken_after_validation_rolls_the_whole_file_back(ana, monkeypatch):
    # Someone else creates the same client between the check and the write.
    real_validate = importing.validate_rows

    def validate_then_someone_creates(rows):
        checked = real_validate(rows)
        ClientFactory(name="Late Arrival")
        return checked

    monkeypatch.setattr(importing, "validate_rows", validate_then_someone_creates)
    data = csv_bytes([a_row(name="Early"), a_row(name="late arrival")])
    result = import_clients(data, by=None)
    assert located(result.errors) == {(3, "name")}
    assert not Client.objects.filter(name="Early").exists()


# --- The command --------------------------------------------------------------------------


def test_the_command_imports_a_good_file_as_the_given_user(ana, director, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([a_row(name="A"), a_row(name="B")]))
    out = StringIO()
    call_command("import_clients", str(path), "--as", "diana", stdout=out)
    assert "Imported 2 clients." in out.getvalue()
    assert set(AuditEvent.objects.values_list("actor__username", flat=True)) == {"diana"}


def test_the_command_prints_the_bad_lines_fails_and_imports_nothing(ana, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([a_row(name="A"), a_row(name="B", owner="nobody")]))
    err = StringIO()
    with pytest.raises(CommandError, match=r"Nothing was imported\."):
        call_command("import_clients", str(path), stderr=err)
    assert "line 3, owner: No account has the username “nobody”." in err.getvalue()
    assert not Client.objects.exists()


def test_the_command_refuses_an_unknown_actor(ana, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([a_row()]))
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_clients", str(path), "--as", "nobody")
    assert not Client.objects.exists()


# --- The upload page ----------------------------------------------------------------------


def upload(data: bytes) -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile("clients.csv", data, content_type="text/csv")}


def test_an_account_manager_may_not_open_the_import_page(client, ana):
    client.force_login(ana)
    assert client.get(reverse("clients:import")).status_code == 403
    assert client.post(reverse("clients:import"), upload(csv_bytes([a_row()]))).status_code == 403
    assert client.get(reverse("clients:import_template")).status_code == 403
    assert not Client.objects.exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, db):
    response = client.get(reverse("clients:import"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_import_page_explains_every_column_and_links_the_template(client, director):
    client.force_login(director)
    response = client.get(reverse("clients:import"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="file"' in page
    assert reverse("clients:import_template") in page
    for column in COLUMNS:
        assert f"<code>{column}</code>" in page


def test_a_director_uploads_a_good_file_and_lands_on_the_list_with_a_message(client, ana, director):
    client.force_login(director)
    response = client.post(
        reverse("clients:import"), upload(csv_bytes([a_row(name="A"), a_row(name="B")]))
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:list")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 clients imported."]
    assert Client.objects.count() == 2


def test_an_administrator_may_import_too(client, ana):
    client.force_login(AdministratorFactory())
    response = client.post(reverse("clients:import"), upload(csv_bytes([a_row()])))
    assert response.status_code == 302
    assert Client.objects.count() == 1


def test_a_bad_upload_shows_the_errors_in_a_table_and_creates_nothing(client, ana, director):
    client.force_login(director)
    data = csv_bytes([a_row(name="A"), a_row(name="B", owner="nobody")])
    response = client.post(reverse("clients:import"), upload(data))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "<td>3</td>" in page
    assert "<code>owner</code>" in page
    assert "No account has the username “nobody”." in page
    assert not Client.objects.exists()


def test_an_oversized_upload_is_refused_as_a_whole_file_problem(client, ana, director, monkeypatch):
    monkeypatch.setattr(importing, "MAX_BYTES", 100)
    client.force_login(director)
    data = csv_bytes([a_row(notes="x" * 200)])
    response = client.post(reverse("clients:import"), upload(data))
    assert response.status_code == 200
    assert "whole file" in response.content.decode()
    assert not Client.objects.exists()


def test_posting_without_a_file_asks_for_one(client, director):
    client.force_login(director)
    response = client.post(reverse("clients:import"), {})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]


def test_the_template_csv_has_the_header_and_imports_back_with_an_example_row(client, director):
    for username in ["ana.souza", "bruno.lima"]:
        AccountManagerFactory(username=username)
    DirectorFactory(username="carla.dias")
    client.force_login(director)
    response = client.get(reverse("clients:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    template = response.content.decode("utf-8-sig")
    assert template.splitlines() == [",".join(COLUMNS)]
    filled = template + ",".join(f'"{EXAMPLE_ROW[column]}"' for column in COLUMNS) + "\r\n"
    result = import_clients(filled.encode(), by=director)
    assert result.created == 1
    imported = Client.objects.get()
    assert imported.name == EXAMPLE_ROW["name"]
    assert imported.team_members.count() == 2
