"""Browser forms for webhook endpoints: they parse; webhooks.services validates and saves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks import events
from webhooks.transport import url_problem


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("Where the events are POSTed, signed (https:// and a public address)."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=events.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event type.")},
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_url(self) -> str:
        # Said with the other fields' errors, not only once they are right; the service
        # checks it again (the API does not come through this form).
        url = str(self.cleaned_data["url"]).strip()
        if problem := url_problem(url):
            raise forms.ValidationError(problem)
        return url

    def service_fields(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ReplayForm(forms.Form):
    since = forms.DateTimeField(
        label=_("Send again every event since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
