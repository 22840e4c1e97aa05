"""The restore drill: a backup is only a backup once it has been restored.

A seeded database is dumped with ``pg_dump`` and restored with ``pg_restore`` into a new,
empty database, exactly as an operator would. The drill proves that

- every table in the ``public`` schema comes back, with the same number of rows and the
  same rows (a fingerprint of each table's contents is compared too);
- every sequence comes back at the same value, so rows written after a restore do not
  collide with restored ids;
- the restored database is a working instance: ``migrate --check`` finds nothing to apply,
  and a real server (gunicorn, as in the Dockerfile) on it lets the demo director sign in,
  shows a seeded client in the client list and accepts a write through the API, whose new
  id follows the restored ones.

docs/operations.md describes the same backup and restore; the commands, as run here
(``$DATABASE_URL`` is the live database, ``$ADMIN_URL`` the same server's ``postgres``
database, ``$RESTORE_URL`` the new, empty one, e.g. .../maturity_restored):

    pg_dump --format=custom --file=maturity.dump "$DATABASE_URL"
    psql "$ADMIN_URL" -c 'CREATE DATABASE maturity_restored'
    pg_restore --no-owner --exit-on-error --dbname="$RESTORE_URL" maturity.dump
    DATABASE_URL="$RESTORE_URL" python manage.py migrate --check

``pg_dump`` must be the server's major version or newer; where the one on the PATH is
older, the server's own binaries under /usr/lib/postgresql/<major>/bin are used.
"""

from __future__ import annotations

import html
import http.cookiejar
import io
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
import pytest
from django.conf import global_settings
from django.core.management import call_command
from psycopg import sql

from assessments.models import Answer, Assessment, DimensionResult, QuestionnaireVersion
from clients.models import Client, Engagement, Stakeholder, TimelineEntry
from education.models import EducationAction, EducationPlan
from tests.celery_process import ROOT, web_server

# Under another name: a module-level "test_*" callable would be collected as a test.
from tests.celery_process import test_database_url as source_database_url
from tests.conftest import missing_service

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Each command gets a bound: a hung pg_dump or server fails the drill instead of the run.
COMMAND_TIMEOUT = 60
HTTP_TIMEOUT = 15

# Tables the seed must fill: if one of these came back empty the drill would prove little.
SEEDED_MODELS = (
    Client,
    Engagement,
    Stakeholder,
    TimelineEntry,
    QuestionnaireVersion,
    Assessment,
    Answer,
    DimensionResult,
    EducationPlan,
    EducationAction,
)


# --- Database helpers -------------------------------------------------------------------


def database_url(name: str) -> str:
    """The test database's URL with another database name."""
    parts = urllib.parse.urlsplit(source_database_url())
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def query(url: str, statement: sql.Composable | str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def server_major(url: str) -> int:
    return int(query(url, "SHOW server_version_num")[0][0]) // 10_000


def client_major(binary: str) -> int:
    output = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", output)
    assert match, f"cannot read the version of {binary}: {output!r}"
    return int(match.group(1))


def pg_binary(name: str, major: int) -> str:
    """``name`` (pg_dump, pg_restore) of the server's major version or newer.

    An older pg_dump refuses a newer server; Debian installs each version's binaries under
    /usr/lib/postgresql/<major>/bin, with the PATH one being whichever client is default.
    """
    candidates = [shutil.which(name), f"/usr/lib/postgresql/{major}/bin/{name}"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and client_major(candidate) >= major:
            return candidate
    missing_service(f"no {name} of PostgreSQL {major} or newer (looked at {candidates})")
    raise AssertionError("unreachable")


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, **kwargs
    )
    assert result.returncode == 0, (
        f"{command[0]} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


@contextmanager
def scratch_database(maintenance_url: str) -> Iterator[str]:
    """A new, empty database with a unique name; dropped afterwards, whatever happened
    (FORCE ends connections a failed step left open)."""
    name = f"restore_{uuid.uuid4().hex[:8]}"
    query(maintenance_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        query(
            maintenance_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)),
        )


def table_contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table of the public schema: its exact row count and a fingerprint of its rows
    (md5 of the rows as text, in a fixed order)."""
    tables = [
        name
        for (name,) in query(
            url,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm') ORDER BY c.relname",
        )
    ]
    contents = {}
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        for table in tables:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                    "ORDER BY t::text), '')) FROM public.{} AS t"
                ).format(sql.Identifier(table))
            ).fetchone()
            assert row is not None
            contents[table] = (row[0], row[1])
    return contents


def sequence_values(url: str) -> dict[str, int | None]:
    return dict(
        query(
            url,
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY sequencename",
        )
    )


# --- A real server on the restored database ---------------------------------------------


def instance_env(url: str, tmp_path: Path) -> dict[str, str]:
    """What a web process on the restored database gets: like the Celery test workers'
    environment, but with a broker folder of its own, so a task a request publishes can
    never reach a worker of another test (nor outlive the drill in the shared Redis)."""
    return {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_BROKER_DIR": str(tmp_path / "broker"),
    }


class Browser:
    """A plain HTTP client with a cookie jar: what a browser does, without Django."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie(self, name: str) -> str:
        values = [cookie.value for cookie in self.cookies if cookie.name == name and cookie.value]
        assert values, f"no {name} cookie; cookies: {list(self.cookies)}"
        return values[0]

    def request(
        self, path: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """(status, final URL, body); HTTP errors are answers too, not exceptions."""
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=HTTP_TIMEOUT) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode(errors="replace")

    def log_in(self, username: str, password: str) -> None:
        status, _, body = self.request("/accounts/login/")
        assert status == 200, body[:2000]
        form = urllib.parse.urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.cookie("csrftoken"),
            }
        ).encode()
        status, url, body = self.request("/accounts/login/", data=form)
        assert status == 200, body[:2000]
        assert "/accounts/login/" not in url, f"the login was refused: {body[:2000]}"
        self.cookie("sessionid")

    def post_json(self, path: str, payload: dict) -> tuple[int, dict]:
        status, _, body = self.request(
            path,
            data=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                # Login rotates the CSRF secret: read it again from the jar.
                "X-CSRFToken": self.cookie("csrftoken"),
            },
        )
        try:
            return status, json.loads(body)
        except json.JSONDecodeError:
            return status, {"unparsed": body[:2000]}


# --- The drill ---------------------------------------------------------------------------


def test_a_dump_of_a_seeded_database_restores_into_an_identical_working_instance(
    postgres, tmp_path, settings
):
    # The suite's fast MD5 hasher is not one the server knows: a password hashed with it
    # could not be checked there. Seed with the hashers a real instance has.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    # --force: the demo logins have a public password, which is what a drill wants.
    call_command("seed_demo", clients=6, force=True, stdout=io.StringIO())

    source_url = source_database_url()
    major = server_major(source_url)
    pg_dump = pg_binary("pg_dump", major)
    pg_restore = pg_binary("pg_restore", major)
    dump = tmp_path / "maturity.dump"

    run([pg_dump, "--format=custom", f"--file={dump}", source_url])
    assert dump.stat().st_size > 0

    with scratch_database(database_url("postgres")) as restored_name:
        restored_url = database_url(restored_name)
        run([pg_restore, "--no-owner", "--exit-on-error", f"--dbname={restored_url}", str(dump)])

        # --- Identical: every table, every row, every sequence.
        source = table_contents(source_url)
        restored = table_contents(restored_url)
        assert len(source) >= 30, f"too few tables to be this project's schema: {sorted(source)}"
        assert sorted(restored) == sorted(source), "the restore lacks or adds tables"
        counts = {table: count for table, (count, _) in source.items()}
        assert {table: count for table, (count, _) in restored.items()} == counts
        assert restored == source, "same counts, but some rows differ"
        empty_seeded = [m._meta.db_table for m in SEEDED_MODELS if not counts[m._meta.db_table]]
        assert not empty_seeded, (
            f"the seed left these empty, the drill proves little: {empty_seeded}"
        )

        source_sequences = sequence_values(source_url)
        assert len(source_sequences) >= 30
        assert sequence_values(restored_url) == source_sequences

        # --- A working instance: nothing to migrate, and a server that reads and writes.
        env = instance_env(restored_url, tmp_path)
        # Exits non-zero when a migration is unapplied (or the database is unreachable).
        run([sys.executable, "manage.py", "migrate", "--check", "--no-input"], cwd=ROOT, env=env)

        client_id, client_name = query(
            restored_url,
            sql.SQL("SELECT id, name FROM {} WHERE is_active ORDER BY id LIMIT 1").format(
                sql.Identifier(Client._meta.db_table)
            ),
        )[0]
        timeline_table = TimelineEntry._meta.db_table
        (last_restored_entry,) = query(
            restored_url, sql.SQL("SELECT max(id) FROM {}").format(sql.Identifier(timeline_table))
        )[0]

        with web_server(env, tmp_path / "gunicorn.log") as base:
            browser = Browser(base)
            browser.log_in("director", "demo")

            status, _, page = browser.request("/clients/")
            assert status == 200, page[:2000]
            assert client_name in html.unescape(page)

            status, entry = browser.post_json(
                "/api/v1/timeline-entries/",
                {
                    "client": client_id,
                    "kind": "note",
                    "occurred_on": date.today().isoformat(),
                    "title": "Restore drill",
                    "body": "Written to the restored database by the restore drill.",
                },
            )
            assert status == 201, entry
            # The id follows the restored ones: the sequence came back with the data.
            assert entry["id"] > last_restored_entry

        # The write went to the restored database, not to the one that was dumped.
        written = sql.SQL("SELECT title FROM {} WHERE id = %s").format(
            sql.Identifier(timeline_table)
        )
        with psycopg.connect(restored_url, connect_timeout=5) as conn:
            assert conn.execute(written, [entry["id"]]).fetchall() == [("Restore drill",)]
        assert table_contents(source_url)[timeline_table] == source[timeline_table]
