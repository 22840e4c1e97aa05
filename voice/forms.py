"""The managers' forms of the client's voice: open a round, invite stakeholders. They
parse input; voice.services writes and checks what only it can (one open round, the
client's own stakeholders, an e-mail)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from assessments.i18n import localized
from clients.forms import DateInput
from clients.models import Stakeholder
from core import languages

DEFAULT_ROUND_DAYS = 14


class RoundOpenForm(forms.Form):
    closes_on = forms.DateField(
        label=_("Closes on"),
        widget=DateInput(),
        help_text=_("Links stop working at the end of this day; one reminder goes out before."),
    )
    version = forms.ChoiceField(label=_("Questionnaire"))

    def __init__(self, *args: Any, versions: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"closes_on": timezone.localdate() + timedelta(days=DEFAULT_ROUND_DAYS)}
        )
        super().__init__(*args, **kwargs)
        self.versions = {str(v.pk): v for v in versions}
        field = self.fields["version"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (pk, f"{localized(v.questionnaire.name)} · v{v.number}")
            for pk, v in self.versions.items()
        ]
        if len(versions) == 1:  # nothing to choose: not asked
            field.widget = forms.HiddenInput()
            field.required = False

    def clean_closes_on(self) -> Any:
        day = self.cleaned_data["closes_on"]
        if day <= timezone.localdate():
            raise forms.ValidationError(_("Choose a closing day after today."))
        return day

    def clean_version(self) -> Any:
        chosen = self.cleaned_data["version"]
        if not chosen and len(self.versions) == 1:
            return next(iter(self.versions.values()))
        return self.versions[chosen]


class InviteForm(forms.Form):
    """Tick the stakeholders to invite, each with the language of their e-mail and page."""

    stakeholders = forms.ModelMultipleChoiceField(
        label=_("Stakeholders to invite"),
        queryset=Stakeholder.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one stakeholder to invite.")},
    )

    def __init__(self, *args: Any, candidates: QuerySet[Stakeholder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["stakeholders"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = candidates
        self.candidates = list(candidates)
        choices = [(code, languages.native_name(code)) for code in languages.codes()]
        current = translation.get_language() or languages.source()
        for person in self.candidates:
            self.fields[f"language_{person.pk}"] = forms.ChoiceField(
                label=_("Language for %(name)s") % {"name": person.name},
                choices=choices,
                initial=current if current in languages.codes() else languages.source(),
            )

    def rows(self) -> list[tuple[Stakeholder, Any]]:
        """Each candidate with its language field, for the template's table."""
        return [(person, self[f"language_{person.pk}"]) for person in self.candidates]

    def language_of(self, person: Stakeholder) -> str:
        return str(self.cleaned_data[f"language_{person.pk}"])
