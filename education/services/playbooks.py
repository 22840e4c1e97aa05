"""Playbooks: the rules that turn a result into education actions; their import and
export, and the directors' edits."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.access import DIRECTORS, user_has_role
from accounts.models import User
from assessments.models import Questionnaire
from education import planning
from education.interchange import check_playbook
from education.models import (
    ActionTemplate,
    Playbook,
    PlaybookRule,
)

log = logging.getLogger(__name__)


def playbook_for(questionnaire_id: int) -> Playbook | None:
    return Playbook.objects.filter(questionnaire_id=questionnaire_id, is_active=True).first()


def rules_of(playbook: Playbook) -> list[planning.Rule]:
    rules = PlaybookRule.objects.filter(playbook=playbook).select_related("template")
    return [
        planning.Rule(
            template=rule.template.code,
            kind=rule.kind,
            dimension=rule.dimension_code,
            threshold=rule.threshold,
            min_defensiveness=rule.min_defensiveness,
            max_defensiveness=rule.max_defensiveness,
            quadrant=rule.quadrant,
            phase=rule.phase,
            gap_levels=rule.gap_levels,
            phases=tuple(rule.phases or ()),
            template_targets=tuple(rule.template.target_dimensions or ()),
        )
        for rule in rules.order_by("position", "id")
    ]


def playbook_import(*, document: dict[str, Any]) -> Playbook:
    """Create or replace a playbook from its JSON document (see data/default_playbook.json)."""
    problems = check_playbook(document)
    if problems:
        raise ValidationError(problems)
    questionnaire = Questionnaire.objects.filter(code=document["questionnaire"]).first()
    if questionnaire is None:
        raise ValidationError(
            _("No questionnaire has the code “%(code)s”.") % {"code": document["questionnaire"]}
        )
    with transaction.atomic():
        playbook, _created = Playbook.objects.update_or_create(
            code=document["code"],
            defaults={
                "name": document["name"],
                "description": document.get("description", {}),
                "questionnaire": questionnaire,
            },
        )
        templates: dict[str, ActionTemplate] = {}
        for position, item in enumerate(document["templates"]):
            template, _created = ActionTemplate.objects.update_or_create(
                playbook=playbook,
                code=item["code"],
                defaults={
                    "action_type": item["action_type"],
                    "title": item["title"],
                    "description": item.get("description", {}),
                    "lead_time_days": item.get("lead_time_days", 14),
                    "recurrence": item.get("recurrence", "once"),
                    "every_weeks": item.get("every_weeks"),
                    "audience": item.get("audience", []),
                    "target_dimensions": item.get("target_dimensions", []),
                    "position": position,
                },
            )
            templates[template.code] = template
        playbook.rules.all().delete()
        PlaybookRule.objects.bulk_create(
            PlaybookRule(
                playbook=playbook,
                template=templates[item["template"]],
                kind=item["kind"],
                dimension_code=item.get("dimension_code", ""),
                threshold=item.get("threshold"),
                min_defensiveness=item.get("min_defensiveness"),
                max_defensiveness=item.get("max_defensiveness"),
                quadrant=item.get("quadrant", ""),
                phase=item.get("phase", ""),
                gap_levels=item.get("gap_levels"),
                phases=item.get("phases", []),
                position=position,
            )
            for position, item in enumerate(document["rules"])
        )
    return playbook


def _require_director(by: User) -> None:
    if not user_has_role(by, DIRECTORS):
        raise PermissionDenied(_("Only directors change playbooks."))


def template_update(*, template: ActionTemplate, by: User, **fields: Any) -> ActionTemplate:
    """A director changes a template's texts, timing or audience."""
    _require_director(by)
    for name, value in fields.items():
        setattr(template, name, value)
    if template.recurrence == "once":
        template.every_weeks = None
    elif not template.every_weeks:
        raise ValidationError({"every_weeks": _("Say every how many weeks it repeats.")})
    template.full_clean()
    template.save()
    return template


def rule_save(*, rule: PlaybookRule, by: User) -> PlaybookRule:
    """A director adds or changes a rule; each kind must have the fields it reads."""
    _require_director(by)
    errors: dict[str, str] = {}
    if rule.template_id and rule.template.playbook_id != rule.playbook_id:
        errors["template"] = _("The template belongs to another playbook.")
    if rule.kind == planning.WEAK_DIMENSION:
        if not rule.dimension_code:
            errors["dimension_code"] = _("Name the dimension.")
        if rule.threshold is None:
            errors["threshold"] = _("Give the score below which the dimension is weak.")
    elif rule.kind == planning.DEFENSIVENESS_BAND:
        low, high = rule.min_defensiveness, rule.max_defensiveness
        if low is None and high is None:
            errors["min_defensiveness"] = _("Give at least one end of the band.")
        elif low is not None and high is not None and low >= high:
            errors["max_defensiveness"] = _("The band's upper end must be above its lower end.")
    elif rule.kind == planning.QUADRANT and not rule.quadrant:
        errors["quadrant"] = _("Choose the quadrant.")
    elif rule.kind == planning.PHASE and not rule.phase:
        errors["phase"] = _("Choose the phase.")
    elif rule.kind == planning.PERCEPTION_GAP and not rule.gap_levels:
        errors["gap_levels"] = _(
            "Give the gap in levels: positive when the client rates itself above us, "
            "negative when below."
        )
    if errors:
        raise ValidationError(errors)
    rule.full_clean()
    rule.save()
    return rule


def rule_delete(*, rule: PlaybookRule, by: User) -> None:
    _require_director(by)
    rule.delete()


def playbook_export(*, playbook: Playbook) -> dict[str, Any]:
    """A playbook as the JSON document playbook_import reads (round trip: same playbook)."""
    return {
        "format": "maturity-playbook",
        "format_version": 1,
        "code": playbook.code,
        "questionnaire": playbook.questionnaire.code,
        "name": playbook.name,
        "description": playbook.description,
        "templates": [
            {
                "code": t.code,
                "action_type": t.action_type,
                "title": t.title,
                "description": t.description,
                "lead_time_days": t.lead_time_days,
                "recurrence": t.recurrence,
                "every_weeks": t.every_weeks,
                "audience": t.audience,
                "target_dimensions": t.target_dimensions,
            }
            for t in playbook.templates.order_by("position", "id")
        ],
        "rules": [
            {
                key: value
                for key, value in {
                    "template": r.template.code,
                    "kind": r.kind,
                    "dimension_code": r.dimension_code,
                    "threshold": r.threshold,
                    "min_defensiveness": r.min_defensiveness,
                    "max_defensiveness": r.max_defensiveness,
                    "quadrant": r.quadrant,
                    "phase": r.phase,
                    "gap_levels": r.gap_levels,
                    "phases": r.phases,
                }.items()
                if value not in ("", None, [])
            }
            for r in playbook.rules.select_related("template").order_by("position", "id")
        ],
    }
