"""Client import from a CSV file: parse, validate every row, then create all or nothing.

Used by ``manage.py import_clients`` and by the directors' upload page. The work is split
in three steps so that each can be tested on its own:

1. :func:`parse_csv` turns bytes into rows of cells (no database): encoding, delimiter,
   header, size and row limits.
2. :func:`validate_rows` checks every row against the same rules as the client pages
   (form fields for the messages, the model's ``full_clean`` for its own rules) plus what
   only an import can get wrong: usernames, names repeated in the file or already taken.
3. :func:`import_clients` writes only when no row has an error, through
   ``clients.services.clients_import`` in one transaction, so a file is imported whole or
   not at all and every client gets its audit event.

Line numbers are the ones a spreadsheet shows: the header is line 1, the first client is
line 2, whatever line breaks a quoted cell may contain.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from clients.models import Client, Country, Segment, Size
from clients.selectors import team_candidates
from clients.services import clients_import

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

# The order of the template's header; the order in a user's file does not matter.
COLUMNS = (
    "name", "legal_name", "tax_id", "segment", "size", "country", "owner", "team_members",
    "notes",
)  # fmt: skip
# Segment, size and country have no default on the model, so a file without them could
# only fail on every row; saying it once on the header is kinder.
REQUIRED_COLUMNS = ("name", "segment", "size", "country", "owner")
# Columns validated by the client form's own fields, so the messages match the pages.
PLAIN_COLUMNS = ("name", "legal_name", "tax_id", "segment", "size", "country", "notes")
CHOICE_COLUMNS: Mapping[str, type[models.TextChoices]] = {
    "segment": Segment,
    "size": Size,
    "country": Country,
}
EXAMPLE_ROW = {
    "name": "Banco Horizonte",
    "legal_name": "Banco Horizonte S.A.",
    "tax_id": "12.345.678/0001-90",
    "segment": "banking",
    "size": "Large",
    "country": "BR",
    "owner": "ana.souza",
    "team_members": "bruno.lima|carla.dias",
    "notes": "Met at the 2025 collections conference.",
}
TEAM_SEPARATORS = ("|", ",")
# Blocks for the name look-up: far below any database's limit on query parameters.
_LOOKUP_CHUNK = 1000


@dataclass(frozen=True)
class RowError:
    """One problem, where the user will find it: spreadsheet line and column.

    ``line`` is None for a problem with the whole file (too large, too many rows);
    ``column`` is empty when the problem is not one cell's.
    """

    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = _("file") if self.line is None else _("line %(line)d") % {"line": self.line}
        if self.column:
            where = f"{where}, {self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class CsvRow:
    """The trimmed cells of one data row, by (lower-case) column name."""

    line: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True)
class ValidRow:
    """A row that passed every check: what ``clients_import`` needs."""

    line: int
    fields: Mapping[str, Any]
    team_members: tuple[User, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    """What an import did: how many clients it created, or why it created none."""

    created: int
    errors: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class _RowFailed(Exception):
    """Raised inside the transaction to roll every row back when one cannot be saved."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors)
        self.errors = errors


# --- Reading the file (no database) ---------------------------------------------------------


def read_at_most(stream: IO[bytes]) -> bytes:
    """Read one byte past the size limit at most: enough to tell the file is too large
    without holding a huge upload in memory."""
    return stream.read(MAX_BYTES + 1)


def detect_delimiter(header_line: str) -> str:
    """``;`` when the header uses it more than ``,`` (Excel in Brazilian Portuguese saves
    CSV that way), else ``,``. Header names never contain either, so counting is enough."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def normalise_header(cell: str) -> str:
    """``" Team Members "`` → ``"team_members"``: spreadsheets invite spaces and capitals."""
    return "_".join(cell.strip().lower().replace("-", " ").split())


def split_usernames(cell: str) -> list[str]:
    """Usernames in a team cell, separated by ``|`` or ``,``; blanks and repeats dropped."""
    for separator in TEAM_SEPARATORS[1:]:
        cell = cell.replace(separator, TEAM_SEPARATORS[0])
    names = (part.strip() for part in cell.split(TEAM_SEPARATORS[0]))
    return list(dict.fromkeys(name for name in names if name))


def choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Lower-cased stored values and English labels → the stored value.

    Labels are read in English whatever the active language, so a file means the same
    thing whoever uploads it; stored values win if a label ever equals another's value.
    """
    with translation.override("en"):
        lookup = {str(label).lower(): str(value) for value, label in choices.choices}
    lookup.update({str(value).lower(): str(value) for value in choices.values})
    return lookup


def _decode(data: bytes) -> str | RowError:
    try:
        # utf-8-sig drops the byte-order mark Excel puts at the start of "CSV UTF-8".
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return RowError(
            line,
            "",
            _(
                "The file is not valid UTF-8 text. Save it from your spreadsheet as "
                "“CSV UTF-8” and try again."
            ),
        )


def _check_header(header: list[str]) -> list[RowError]:
    errors: list[RowError] = []
    named = [name for name in header if name]
    for name in dict.fromkeys(named):
        if named.count(name) > 1:
            errors.append(RowError(1, name, _("This column appears more than once.")))
        if name not in COLUMNS:
            errors.append(
                RowError(
                    1,
                    name,
                    _("Unknown column. The columns are: %(columns)s.")
                    % {"columns": ", ".join(COLUMNS)},
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in named:
            errors.append(RowError(1, name, _("This required column is missing.")))
    return errors


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Data records with their spreadsheet line, skipping wholly empty rows (which a
    spreadsheet still numbers)."""
    for line, record in enumerate(reader, start=2):
        if any(cell.strip() for cell in record):
            yield line, record


def parse_csv(data: bytes) -> tuple[list[CsvRow], list[RowError]]:
    """Rows of trimmed cells, or the errors that stop the file being read at all."""
    if len(data) > MAX_BYTES:
        limit = MAX_BYTES // (1024 * 1024)
        return [], [
            RowError(
                None,
                "",
                _("The file is larger than %(limit)d MB. Split it into smaller files.")
                % {"limit": limit},
            )
        ]
    text = _decode(data)
    if isinstance(text, RowError):
        return [], [text]
    if not text.strip():
        return [], [RowError(1, "", _("The file is empty."))]
    delimiter = detect_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    line = 1
    try:
        header = [normalise_header(cell) for cell in next(reader)]
        errors = _check_header(header)
        if errors:
            return [], errors
        for count, (line, record) in enumerate(_records(reader), start=1):
            if count > MAX_ROWS:
                message = _(
                    "The file has more than %(limit)s rows. Split it into files of at most "
                    "%(limit)s rows."
                ) % {"limit": f"{MAX_ROWS:,}"}
                return [], [RowError(None, "", message)]
            extra = record[len(header) :]
            if any(cell.strip() for cell in extra):
                errors.append(
                    RowError(
                        line,
                        "",
                        _(
                            "This row has more cells than the header has columns. A value "
                            "that contains the delimiter must be in quotes."
                        ),
                    )
                )
                continue
            cells = {name: cell.strip() for name, cell in zip(header, record, strict=False) if name}
            rows.append(CsvRow(line, cells))
    except csv.Error as error:
        return [], [
            RowError(line, "", _("The file cannot be read as CSV: %(error)s") % {"error": error})
        ]
    if not rows and not errors:
        errors.append(RowError(None, "", _("The file has a header but no clients below it.")))
    return rows, errors


# --- Validating the rows (reads the database) -----------------------------------------------


def _users_by_username(usernames: Iterable[str]) -> dict[str, User]:
    wanted = sorted(set(usernames))
    found: dict[str, User] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        found.update((user.username, user) for user in User.objects.filter(username__in=chunk))
    return found


def _taken_names(names: Iterable[str]) -> set[str]:
    """Which of ``names`` (lower-cased) a client already has, compared like the database's
    case-insensitive unique constraint."""
    wanted = sorted({name.lower() for name in names})
    taken: set[str] = set()
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        taken.update(
            Client.objects.annotate(lower_name=Lower("name"))
            .filter(lower_name__in=chunk)
            .values_list("lower_name", flat=True)
        )
    return taken


def _name_taken_message() -> str:
    # The constraint's own message, so the import says what the client form says.
    for constraint in Client._meta.constraints:
        if constraint.name == "client_name_unique_ci":
            return str(constraint.get_violation_error_message())
    return _("A client with this name already exists.")


def _unknown_user(username: str) -> str:
    return _("No account has the username “%(username)s”.") % {"username": username}


def _errors_from(line: int, error: ValidationError) -> list[RowError]:
    return [
        RowError(line, _column_of(name, message), message)
        for name, messages in error.message_dict.items()
        for message in messages
    ]


def _column_of(field_name: str, message: str) -> str:
    if field_name != NON_FIELD_ERRORS:
        return field_name
    # The unique-name constraint is an expression (Lower), so Django reports it for the
    # whole row; in a file it belongs to the name cell.
    return "name" if message == _name_taken_message() else ""


class _RowValidator:
    """Checks rows one by one with lookups done once for the whole file."""

    def __init__(self, rows: list[CsvRow]) -> None:
        self.form_fields = forms.fields_for_model(Client, fields=PLAIN_COLUMNS)
        self.choices = {column: choice_lookup(kind) for column, kind in CHOICE_COLUMNS.items()}
        usernames = [row.get("owner") for row in rows]
        for row in rows:
            usernames.extend(split_usernames(row.get("team_members")))
        self.users = _users_by_username(name for name in usernames if name)
        self.candidates = set(
            team_candidates()
            .filter(pk__in=[u.pk for u in self.users.values()])
            .values_list("pk", flat=True)
        )
        self.taken = _taken_names(row.get("name") for row in rows if row.get("name"))
        self.first_line_of: dict[str, int] = {}

    def check(self, row: CsvRow) -> tuple[ValidRow | None, list[RowError]]:
        errors: list[RowError] = []
        values: dict[str, Any] = {}
        for column in PLAIN_COLUMNS:
            raw = row.get(column)
            if column in self.choices and raw:
                raw = self.choices[column].get(raw.lower(), raw)
            try:
                values[column] = self.form_fields[column].clean(raw)
            except ValidationError as error:
                errors.extend(RowError(row.line, column, message) for message in error.messages)
        owner = self._owner(row, errors)
        team = self._team(row, errors)
        errors.extend(self._model_errors(row.line, values, owner, errors))
        errors.extend(self._name_errors(row.line, values.get("name")))
        if errors:
            return None, errors
        return ValidRow(row.line, {**values, "owner": owner}, tuple(team)), []

    def _owner(self, row: CsvRow, errors: list[RowError]) -> User | None:
        username = row.get("owner")
        if not username:
            errors.append(
                RowError(row.line, "owner", str(forms.Field.default_error_messages["required"]))
            )
            return None
        owner = self.users.get(username)
        if owner is None:
            errors.append(RowError(row.line, "owner", _unknown_user(username)))
        return owner

    def _team(self, row: CsvRow, errors: list[RowError]) -> list[User]:
        team: list[User] = []
        for username in split_usernames(row.get("team_members")):
            user = self.users.get(username)
            if user is None:
                errors.append(RowError(row.line, "team_members", _unknown_user(username)))
            elif user.pk not in self.candidates:
                # The same people the client form offers: active managers and directors.
                message = _(
                    "“%(username)s” cannot be on a client's team: team members must be "
                    "active account managers or directors."
                ) % {"username": username}
                errors.append(RowError(row.line, "team_members", message))
            else:
                team.append(user)
        return team

    def _model_errors(
        self, line: int, values: dict[str, Any], owner: User | None, errors: list[RowError]
    ) -> list[RowError]:
        """The model's own rules (validators, ``clean``: the owner's role) on the cells the
        form fields accepted. Constraints are checked for the whole file at once, and the
        owner's existence is already known, so neither costs a query per row here."""
        client = Client(**values, owner=owner)
        failed = {error.column for error in errors}
        try:
            client.full_clean(
                exclude=[*failed, "owner"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            return _errors_from(line, error)
        return []

    def _name_errors(self, line: int, name: str | None) -> list[RowError]:
        if not name:
            return []
        key = name.lower()
        if key in self.taken:
            return [RowError(line, "name", _name_taken_message())]
        first = self.first_line_of.setdefault(key, line)
        if first != line:
            message = _("This name is already used on line %(line)d of the file.") % {"line": first}
            return [RowError(line, "name", message)]
        return []


def validate_rows(rows: list[CsvRow]) -> tuple[list[ValidRow], list[RowError]]:
    """Check every row, collecting every error; valid rows are returned only if all are."""
    validator = _RowValidator(rows)
    valid: list[ValidRow] = []
    errors: list[RowError] = []
    for row in rows:
        checked, row_errors = validator.check(row)
        errors.extend(row_errors)
        if checked is not None:
            valid.append(checked)
    return ([] if errors else valid), errors


# --- Writing --------------------------------------------------------------------------------


def _create_all(rows: list[ValidRow], by: User | None) -> None:
    try:
        clients_import(rows=[(dict(row.fields), row.team_members) for row in rows], by=by)
    except ValidationError as error:
        if "name" not in error.message_dict:
            raise
        # Someone created one of these names after we checked: find which, and say where.
        taken = _taken_names(str(row.fields["name"]) for row in rows)
        raise _RowFailed(
            [
                RowError(row.line, "name", _name_taken_message())
                for row in rows
                if str(row.fields["name"]).lower() in taken
            ]
            or [RowError(rows[0].line, "name", _name_taken_message())]
        ) from error


def import_clients(data: bytes, *, by: User | None) -> ImportResult:
    """Import a CSV file of clients: all of them, or none and the reasons why."""
    rows, errors = parse_csv(data)
    if errors:
        return ImportResult(created=0, errors=tuple(errors))
    valid, errors = validate_rows(rows)
    if errors:
        return ImportResult(created=0, errors=tuple(errors))
    try:
        _create_all(valid, by)
    except _RowFailed as failure:
        return ImportResult(created=0, errors=tuple(failure.errors))
    return ImportResult(created=len(valid))


def template_csv() -> str:
    """The header row of an import file, with the byte-order mark that makes Excel open it
    as UTF-8 (accents intact) instead of the system's legacy code page."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(COLUMNS)
    return "\ufeff" + buffer.getvalue()
