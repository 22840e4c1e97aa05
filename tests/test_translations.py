"""Portuguese and Spanish are complete, compiled and actually served."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from core.translations import catalogue_paths, problems_in
from tests.factories import AccountManagerFactory


@pytest.mark.parametrize("path", catalogue_paths(Path(settings.LOCALE_PATHS[0])), ids=str)
def test_the_catalogue_is_complete_and_compiled(path):
    assert [str(problem) for problem in problems_in(path)] == []


def test_a_fuzzy_entry_is_reported(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy\nmsgid "Clients"\nmsgstr "Clientes"\n\nmsgid "Home"\nmsgstr ""\n'
    )
    problems = [problem.problem for problem in problems_in(po)]
    assert "untranslated: 'Home'" in problems
    assert "fuzzy (needs review): 'Clients'" in problems
    assert any("not compiled" in problem for problem in problems)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("pt-br", "Sair"), ("es", "Cerrar sesión"), ("en", "Log out")],
)
def test_pages_speak_the_chosen_language(client, language, expected):
    client.force_login(AccountManagerFactory())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/").content.decode()
    assert expected in page
