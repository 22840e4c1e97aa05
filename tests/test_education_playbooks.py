"""Playbooks move as JSON: export and import commands, every problem named, nothing
half-imported."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from education.defaults import default_document
from education.models import Playbook, PlaybookRule
from education.services import playbook_export

pytestmark = pytest.mark.django_db


def test_the_default_playbook_round_trips_through_export_and_import(tmp_path):
    playbook = Playbook.objects.get(code="bpo-default")
    exported = playbook_export(playbook=playbook)
    assert exported == default_document()
    path = tmp_path / "playbook.json"
    call_command("playbook_export", "bpo-default", "-o", str(path))
    out = io.StringIO()
    call_command("playbook_import", str(path), stdout=out)
    assert "13 templates, 18 rules" in out.getvalue()  # the default playbook's
    assert playbook_export(playbook=Playbook.objects.get(code="bpo-default")) == exported


def test_a_bad_file_names_every_problem_and_imports_nothing(tmp_path):
    document = default_document()
    document["templates"][0]["action_type"] = "party"
    document["rules"][0]["threshold"] = 150
    document["rules"][1]["template"] = "nowhere"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    rules_before = PlaybookRule.objects.count()
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("playbook_import", str(path), stderr=err)
    messages = err.getvalue()
    assert "templates.0.action_type" in messages
    assert "rules.0.threshold" in messages
    assert "rules.1.template" in messages
    assert PlaybookRule.objects.count() == rules_before


def test_not_json_is_a_clear_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(CommandError, match="Not valid JSON: line 1"):
        call_command("playbook_import", str(path))


def test_exporting_an_unknown_playbook_lists_the_known_ones():
    with pytest.raises(CommandError, match="there are: bpo-default"):
        call_command("playbook_export", "nope")


def test_a_perception_gap_rule_needs_a_gap_that_is_not_zero():
    from education.interchange import check_playbook

    document = default_document()
    document["rules"].append({"template": "site-visit", "kind": "perception_gap", "gap_levels": 0})
    document["rules"].append({"template": "site-visit", "kind": "perception_gap", "gap_levels": 9})
    problems = check_playbook(document)
    last = len(document["rules"]) - 1
    assert set(problems) == {f"rules.{last - 1}.gap_levels", f"rules.{last}.gap_levels"}
