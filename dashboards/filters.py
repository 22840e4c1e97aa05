"""The dashboard's filters: one form, read by the pages, the CSV exports and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.models import Phase, ProcessType, Segment
from clients.selectors import account_managers

PERIODS = (
    ("3", _("Last 3 months")),
    ("6", _("Last 6 months")),
    ("12", _("Last 12 months")),
    ("24", _("Last 24 months")),
    ("all", _("All time")),
)
DEFAULT_PERIOD = "12"
GROUPINGS = (("segment", _("Segment")), ("process_type", _("Engagement type")))


@dataclass(frozen=True)
class Filters:
    """What a dashboard is narrowed to. ``owner`` is an account manager's id."""

    segment: str = ""
    process_type: str = ""
    phase: str = ""
    owner: int | None = None
    period: str = DEFAULT_PERIOD
    by: str = "segment"

    def since(self, now: datetime | None = None) -> datetime | None:
        """Start of the period (None for all time): whole months back from today."""
        if self.period == "all":
            return None
        today = timezone.localdate(now or timezone.now())
        # "Last 12 months" is this month and the eleven before it, from their first day.
        year, month = divmod(today.year * 12 + today.month - int(self.period), 12)
        start = date(year, month + 1, 1)
        return timezone.make_aware(datetime.combine(start, time.min))

    def as_query(self) -> dict[str, str]:
        """The filters as URL parameters, defaults left out (for links and exports)."""
        query = {
            "segment": self.segment,
            "process_type": self.process_type,
            "phase": self.phase,
            "owner": str(self.owner) if self.owner else "",
            "period": "" if self.period == DEFAULT_PERIOD else self.period,
            "by": "" if self.by == "segment" else self.by,
        }
        return {k: v for k, v in query.items() if v}


class DashboardFilterForm(forms.Form):
    segment = forms.ChoiceField(
        label=_("Segment"), choices=[("", _("Any")), *list(Segment.choices)], required=False
    )
    process_type = forms.ChoiceField(
        label=_("Engagement type"),
        choices=[("", _("Any")), *list(ProcessType.choices)],
        required=False,
    )
    phase = forms.ChoiceField(
        label=_("Phase"), choices=[("", _("Any")), *list(Phase.choices)], required=False
    )
    owner = forms.ModelChoiceField(
        label=_("Account manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    period = forms.ChoiceField(
        label=_("Period"), choices=PERIODS, required=False, initial=DEFAULT_PERIOD
    )
    by = forms.ChoiceField(
        label=_("Heatmap rows"), choices=GROUPINGS, required=False, initial="segment"
    )

    def __init__(self, data: Any = None, *, with_owner: bool = True, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        if with_owner:
            self.fields["owner"].queryset = account_managers()  # type: ignore[attr-defined]
        else:
            del self.fields["owner"]

    def filters(self) -> Filters:
        """The valid filters; a field that failed validation counts as not given (the
        form's errors say which), so the page still shows figures."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        owner = data.get("owner")
        return Filters(
            segment=data.get("segment") or "",
            process_type=data.get("process_type") or "",
            phase=data.get("phase") or "",
            owner=owner.pk if owner else None,
            period=data.get("period") or DEFAULT_PERIOD,
            by=data.get("by") or "segment",
        )


def page_number(text: str) -> int | None:
    """A page number from 1 up, or None: only ASCII digits, at most 9 of them (int()
    would take "²" no better than a 5,000-digit string)."""
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        return None
    return int(text)
