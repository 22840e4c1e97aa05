"""Browser forms for clients and what hangs off them. They parse and validate input;
saving goes through clients.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.models import (
    Client,
    Engagement,
    PastExperience,
    Stakeholder,
    TimelineEntry,
    WentWrong,
)
from clients.selectors import account_managers, team_candidates


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ClientForm(forms.ModelForm):
    """Directors choose the owner; an account manager creates clients they own."""

    class Meta:
        model = Client
        fields = [
            "name", "legal_name", "tax_id", "segment", "size", "country", "owner",
            "team_members", "notes",
        ]  # fmt: skip
        widgets = {
            "team_members": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = account_managers()  # type: ignore[attr-defined]
        self.fields["team_members"].queryset = team_candidates()  # type: ignore[attr-defined]
        if not user.sees_whole_portfolio:
            # Managers cannot hand a client to someone else: they would lose sight of it.
            # The model's clean() still sees an owner: the manager, for a new client.
            del self.fields["owner"]
            if not self.instance.owner_id:
                self.instance.owner = user

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("team_members", None)
        if "owner" not in self.fields:
            data["owner"] = self.instance.owner if self.instance.pk else self.user
        return data


class EngagementForm(forms.ModelForm):
    class Meta:
        model = Engagement
        fields = ["process_type", "phase", "start_date", "end_date", "description"]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = ["name", "role", "email", "phone", "influence", "stance", "notes"]
        widgets = {
            "influence": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class PastExperienceForm(forms.ModelForm):
    went_wrong = forms.MultipleChoiceField(
        label=_("What went wrong"),
        choices=WentWrong.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = PastExperience
        fields = [
            "supplier", "process_type", "started_on", "ended_on", "outcome", "went_wrong",
            "severity", "legacy", "legacy_description", "notes",
        ]  # fmt: skip
        widgets = {
            "started_on": DateInput(),
            "ended_on": DateInput(),
            "severity": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "legacy_description": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


class TimelineEntryForm(forms.ModelForm):
    class Meta:
        model = TimelineEntry
        fields = ["kind", "relevance", "occurred_on", "engagement", "title", "body"]
        widgets = {"occurred_on": DateInput(), "body": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.client = client
        self.fields["engagement"].queryset = client.engagements.all()  # type: ignore[attr-defined]
        if self.instance.pk is None:  # a new entry is most often about today
            self.fields["occurred_on"].initial = timezone.localdate()
