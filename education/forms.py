"""Browser forms for education: they parse and validate; saving goes through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from assessments.labels import QUADRANTS
from assessments.scoring import Quadrant
from clients.forms import DateInput
from clients.models import Client, Phase
from core import languages
from education.models import ActionTemplate, ActionType, EducationAction, PlaybookRule, RuleKind


def owner_choices(client: Client) -> Any:
    """Who may own an action of this client: its owner, its team, and directors."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(pk=client.owner_id)
            | Q(pk__in=client.team_members.filter(role=Role.ACCOUNT_MANAGER).values("pk"))
            | Q(role=Role.DIRECTOR)
        )
        .order_by("first_name", "last_name", "username")
    )


class AudienceField(forms.CharField):
    """Stakeholder roles, typed comma-separated."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(",") if part.strip()]


class ActionForm(forms.ModelForm):
    audience = AudienceField(
        label=_("Audience"),
        required=False,
        max_length=2000,
        help_text=_("Stakeholder roles, separated by commas."),
    )

    class Meta:
        model = EducationAction
        fields = [
            "engagement", "action_type", "title", "description", "owner", "due_date",
            "audience", "every_weeks",
        ]  # fmt: skip
        widgets = {"due_date": DateInput(), "description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"every_weeks": _("Leave empty for a one-off action.")}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["engagement"].queryset = client.engagements.all()  # type: ignore[attr-defined]
        self.fields["engagement"].empty_label = None  # type: ignore[attr-defined]
        self.fields["owner"].queryset = owner_choices(client)  # type: ignore[attr-defined]
        self.fields["owner"].required = False
        self.fields["title"].required = not (self.instance.pk and self.instance.template_id)
        self.fields["action_type"].choices = ActionType.choices  # type: ignore[attr-defined]
        if self.instance.pk:
            del self.fields["engagement"]
            if self.instance.template_id and not self.instance.title:
                self.fields["title"].widget.attrs["placeholder"] = self.instance.display_title

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("engagement", None)
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


class CompleteForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What came of it: who attended, what was agreed, what changed."),
    )


class SkipForm(forms.Form):
    reason = forms.CharField(label=_("Why skip it?"), max_length=500)


class RescheduleForm(forms.Form):
    due_date = forms.DateField(label=_("New due date"), widget=DateInput())


class TemplateForm(forms.ModelForm):
    """A playbook's action template; its title and description in every language of
    ``settings.LANGUAGES`` (fields ``title_<code>`` and ``description_<code>``)."""

    audience = AudienceField(label=_("Audience"), required=False, max_length=2000)

    class Meta:
        model = ActionTemplate
        fields = ["action_type", "lead_time_days", "recurrence", "every_weeks", "audience"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        titles, descriptions = self.instance.title or {}, self.instance.description or {}
        for code in languages.codes():
            self.fields[f"title_{code}"] = forms.CharField(
                label=_("Title (%(language)s)") % {"language": languages.name(code)},
                max_length=200,
                initial=titles.get(code, ""),
            )
        for code in languages.codes():
            self.fields[f"description_{code}"] = forms.CharField(
                label=_("Description (%(language)s)") % {"language": languages.name(code)},
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=descriptions.get(code, ""),
            )

    def service_fields(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        for kind in ("title", "description"):
            data[kind] = {
                code: self.cleaned_data[f"{kind}_{code}"].strip() for code in languages.codes()
            }
        return data


class RuleForm(forms.ModelForm):
    phases = forms.MultipleChoiceField(
        label=_("Only in phases"),
        choices=Phase.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every phase."),
    )

    class Meta:
        model = PlaybookRule
        fields = [
            "template", "kind", "dimension_code", "threshold", "min_defensiveness",
            "max_defensiveness", "quadrant", "phase", "gap_levels", "phases",
        ]  # fmt: skip

    def __init__(self, *args: Any, dimensions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = self.instance.playbook.templates.all()  # type: ignore[attr-defined]
        self.fields["kind"].choices = RuleKind.choices  # type: ignore[attr-defined]
        self.fields["dimension_code"] = forms.ChoiceField(
            label=_("Dimension"), choices=[("", "—"), *dimensions], required=False
        )
        self.fields["quadrant"] = forms.ChoiceField(
            label=_("Quadrant"),
            choices=[("", "—"), *((q.value, QUADRANTS.get(q.value, q.value)) for q in Quadrant)],
            required=False,
        )
        self.fields["phase"] = forms.ChoiceField(
            label=_("Phase"), choices=[("", "—"), *Phase.choices], required=False
        )
