"""What every form page does with a service's refusal."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError


def attach_errors(
    form: forms.BaseForm, error: ValidationError, names: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form fields it names (``names`` maps a
    service's field to the form's, where they differ), the rest on the whole form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            name = (names or {}).get(field, field)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
