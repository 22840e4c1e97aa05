"""One list of languages (settings.LANGUAGES): everything else is derived, so a fourth
language needs no code — only the settings line, a catalogue and the data's texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessments.i18n import localized, missing_languages
from core import languages
from core.translations import catalogue_paths
from education.forms import TemplateForm
from education.interchange import FORMAT, check_playbook

FOURTH = [("en", "English"), ("pt-br", "Brazilian Portuguese"), ("es", "Spanish"), ("fr", "French")]
THREE = {"en": "Workshop", "pt-br": "Oficina", "es": "Taller"}


def test_the_shipped_languages():
    assert languages.codes() == ("en", "pt-br", "es")
    assert languages.translated_locales() == ("pt_BR", "es")
    assert languages.listed() == "en, pt-br and es"
    assert [p.parent.parent.name for p in catalogue_paths(Path("locale"))] == ["pt_BR", "es"]


def test_a_fourth_language_is_a_settings_line(settings):
    settings.LANGUAGES = FOURTH
    assert languages.translated_locales() == ("pt_BR", "es", "fr")
    assert languages.native_name("fr") == "Français"
    # Texts now need French too, and say so.
    assert missing_languages(THREE) == ["fr"]
    assert localized({**THREE, "fr": "Atelier"}, "fr") == "Atelier"
    assert [p.parent.parent.name for p in catalogue_paths(Path("locale"))][-1] == "fr"


def test_a_fourth_language_reaches_the_playbook_form_and_the_import(settings):
    settings.LANGUAGES = FOURTH
    form = TemplateForm()
    assert {"title_fr", "description_fr"} <= set(form.fields)
    assert str(form.fields["title_fr"].label) == "Title (French)"
    problems = check_playbook({"format": FORMAT, "name": THREE})
    assert "needs en, pt-br, es and fr" in problems["name"]


@pytest.mark.django_db
def test_a_fourth_language_reaches_the_questionnaire_language_picker(settings, client, director):
    from tests.factories import published_default_version

    settings.LANGUAGES = FOURTH
    version = published_default_version()
    client.force_login(director)
    page = client.get(f"/questionnaires/versions/{version.pk}/?lang=fr")
    assert page.status_code == 200
    assert ("fr", "Français") in page.context["languages"]
    assert page.context["language"] == "fr"
