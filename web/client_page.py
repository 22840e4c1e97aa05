"""The client page: one client with everything the product knows about it — engagements
and their assessments, the trend, the education plan and its uplift, stakeholders, past
experiences, the timeline and the audit history.

It composes clients, assessments and education, so it sits above them. Its URLs keep the
``clients`` namespace (``clients:detail``, ``clients:section`` …): ``maturity/urls.py``
joins them with the clients app's own.

The page is made of sections (engagements, stakeholders, past experiences, timeline) that
add, edit and delete in place through htmx. Every section works the same way, so one
registry (``SECTIONS``) describes them and three views serve them all. Without JavaScript
the same URLs fall back to full-page forms and redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.access import AuthenticatedHttpRequest
from assessments.selectors import client_page as select_client
from assessments.selectors import client_trend, questionnaires_in_use
from clients import services
from clients.forms import (
    EngagementForm,
    PastExperienceForm,
    StakeholderForm,
    TimelineEntryForm,
)
from clients.models import Client, TimelineEntry
from clients.selectors import client_history, clients_visible_to
from core.forms import attach_errors
from core.htmx import is_htmx
from education.selectors import client_plan, dimension_names, uplift_by_action_type
from voice.selectors import gaps_over_time

# --- The client page ------------------------------------------------------------------------


@login_required
def client_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    client = select_client(user=request.user, pk=pk)
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "trend": _captioned(client_trend(client.engagements.all())),
            "history": client_history(client=client),
            "plan": client_plan(client=client),
            "uplift_by_type": uplift_by_action_type(clients=clients_visible_to(request.user)),
            "dimension_names": dimension_names(),
            "today": timezone.localdate(),
            "next": reverse("clients:detail", args=[client.pk]) + "#plan",
            "sections": {key: section_context(request, client, key) for key in SECTIONS},
            "voice": gaps_over_time(list(client.engagements.all())),
        },
    )


def _captioned(trend: dict[str, Any]) -> dict[str, Any]:
    """Each engagement's series with a sentence saying what its chart shows."""
    for series in trend["series"]:
        series["caption"] = _trend_caption(series)
    return trend


def _whole(value: float | None) -> str:
    return "—" if value is None else formats.number_format(round(value), use_l10n=True)


def _trend_caption(series: dict[str, Any]) -> str:
    first, last = series["first"], series["last"]
    day = formats.date_format(
        timezone.localtime(first["assessment"].submitted_at), "SHORT_DATE_FORMAT"
    )
    if first is last:
        return _(
            "One assessment so far, on %(day)s: maturity %(maturity)s, "
            "defensiveness %(defensiveness)s."
        ) % {
            "day": day,
            "maturity": _whole(first["maturity"]),
            "defensiveness": _whole(first["defensiveness"]),
        }
    return _("%(count)s assessments since %(since)s: %(maturity)s; %(defensiveness)s.") % {
        "count": len(series["points"]),
        "since": day,
        "maturity": _moved(
            first["maturity"],
            last["maturity"],
            up=_("maturity rose from %(before)s to %(after)s"),
            down=_("maturity fell from %(before)s to %(after)s"),
            held=_("maturity held at %(before)s"),
        ),
        "defensiveness": _moved(
            first["defensiveness"],
            last["defensiveness"],
            up=_("defensiveness rose from %(before)s to %(after)s"),
            down=_("defensiveness eased from %(before)s to %(after)s"),
            held=_("defensiveness held at %(before)s"),
        ),
    }


def _moved(before: float | None, after: float | None, *, up: str, down: str, held: str) -> str:
    values = {"before": _whole(before), "after": _whole(after)}
    if before is None or after is None or round(before) == round(after):
        return held % values
    return (up if after > before else down) % values


# --- Inline sections ------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One inline-editable list on the client page."""

    key: str
    title: Any
    add_label: Any
    form_class: type[forms.ModelForm]
    related_name: str
    create: Callable[..., models.Model]
    update: Callable[..., models.Model]
    delete: Callable[..., None]
    form_kwargs: Callable[[Client], dict[str, Any]] = lambda client: {}

    def rows(self, client: Client) -> list[Any]:
        return list(getattr(client, self.related_name).all())


SECTIONS: dict[str, Section] = {
    section.key: section
    for section in (
        Section(
            key="engagements",
            title=gettext_lazy("Engagements"),
            add_label=gettext_lazy("Add engagement"),
            form_class=EngagementForm,
            related_name="engagements",
            create=services.engagement_create,
            update=lambda obj, **kw: services.engagement_update(engagement=obj, **kw),
            delete=lambda obj, **kw: services.engagement_delete(engagement=obj, **kw),
        ),
        Section(
            key="stakeholders",
            title=gettext_lazy("Stakeholders"),
            add_label=gettext_lazy("Add stakeholder"),
            form_class=StakeholderForm,
            related_name="stakeholders",
            create=services.stakeholder_create,
            update=lambda obj, **kw: services.stakeholder_update(stakeholder=obj, **kw),
            delete=lambda obj, **kw: services.stakeholder_delete(stakeholder=obj, **kw),
        ),
        Section(
            key="experiences",
            title=gettext_lazy("Past experiences"),
            add_label=gettext_lazy("Add past experience"),
            form_class=PastExperienceForm,
            related_name="past_experiences",
            create=services.past_experience_create,
            update=lambda obj, **kw: services.past_experience_update(experience=obj, **kw),
            delete=lambda obj, **kw: services.past_experience_delete(experience=obj, **kw),
        ),
        Section(
            key="timeline",
            title=gettext_lazy("Timeline"),
            add_label=gettext_lazy("Add to the timeline"),
            form_class=TimelineEntryForm,
            related_name="timeline",
            create=services.timeline_entry_create,
            update=lambda obj, **kw: services.timeline_entry_update(entry=obj, **kw),
            delete=lambda obj, **kw: services.timeline_entry_delete(entry=obj, **kw),
            form_kwargs=lambda client: {"client": client},
        ),
    )
}


def section_context(request: HttpRequest, client: Client, key: str) -> dict[str, Any]:
    section = SECTIONS[key]
    context = {"section": section, "rows": section.rows(client), "client": client}
    if key == "engagements":  # its rows offer to start an assessment on a questionnaire
        context["questionnaires"] = questionnaires_in_use()
    return context


def _section_and_client(
    request: AuthenticatedHttpRequest, pk: int, key: str
) -> tuple[Section, Client]:
    section = SECTIONS.get(key)
    if section is None:
        raise Http404
    return section, get_object_or_404(clients_visible_to(request.user), pk=pk)


def _check_may_change(request: AuthenticatedHttpRequest, row: models.Model) -> None:
    """Refuse the edit form up front for a timeline entry the user may not change (the
    service refuses the write itself)."""
    if isinstance(row, TimelineEntry) and not services.timeline_entry_may_change(
        entry=row, user=request.user
    ):
        raise PermissionDenied


def _render_section(
    request: AuthenticatedHttpRequest, client: Client, key: str, refusal: str = ""
) -> HttpResponse:
    # Re-read the client so the section shows what is now stored.
    fresh = select_client(user=request.user, pk=client.pk)
    context = {**section_context(request, fresh, key), "refusal": refusal}
    response = render(request, "clients/detail.html#section", context)
    # The form posted itself (hx-target="this"); on success the whole section is replaced.
    response["HX-Retarget"] = f"#section-{key}"
    response["HX-Reswap"] = "innerHTML"
    return response


def _render_form(
    request: AuthenticatedHttpRequest,
    section: Section,
    client: Client,
    form: forms.ModelForm,
    row: Any,
) -> HttpResponse:
    context = {"section": section, "client": client, "form": form, "row": row}
    template = "clients/section_form.html" + ("#form" if is_htmx(request) else "")
    return render(request, template, context)


def _save(
    request: AuthenticatedHttpRequest,
    section: Section,
    client: Client,
    row: Any,
    write: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """The add and edit forms: on a valid POST the service writes, then the section is
    shown again (htmx) or the page (a redirect); otherwise the form, with its errors."""
    kwargs = section.form_kwargs(client)
    form = section.form_class(request.POST or None, instance=row, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            write(form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            if is_htmx(request):
                return _render_section(request, client, section.key)
            messages.success(request, done)
            return redirect(reverse("clients:detail", args=[client.pk]) + f"#{section.key}")
    return _render_form(request, section, client, form, row)


@login_required
def section_add(request: AuthenticatedHttpRequest, pk: int, key: str) -> HttpResponse:
    section, client = _section_and_client(request, pk, key)
    return _save(
        request,
        section,
        client,
        None,
        lambda data: section.create(client=client, by=request.user, **data),
        _("Saved."),
    )


@login_required
def section_edit(request: AuthenticatedHttpRequest, pk: int, key: str, row_pk: int) -> HttpResponse:
    section, client = _section_and_client(request, pk, key)
    row = get_object_or_404(getattr(client, section.related_name), pk=row_pk)
    _check_may_change(request, row)
    return _save(
        request,
        section,
        client,
        row,
        lambda data: section.update(row, by=request.user, **data),
        _("Changes saved."),
    )


@login_required
@require_POST
def section_delete(
    request: AuthenticatedHttpRequest, pk: int, key: str, row_pk: int
) -> HttpResponse:
    section, client = _section_and_client(request, pk, key)
    row = get_object_or_404(getattr(client, section.related_name), pk=row_pk)
    _check_may_change(request, row)
    try:
        section.delete(row, by=request.user)
    except ValidationError as refused:
        if is_htmx(request):
            return _render_section(request, client, key, refusal=" ".join(refused.messages))
        messages.error(request, " ".join(refused.messages))
        return redirect(reverse("clients:detail", args=[client.pk]) + f"#{key}")
    if is_htmx(request):
        return _render_section(request, client, key)
    messages.success(request, _("Deleted."))
    return redirect(reverse("clients:detail", args=[client.pk]) + f"#{key}")


@login_required
def section_view(request: AuthenticatedHttpRequest, pk: int, key: str) -> HttpResponse:
    """The section alone: what "Cancel" in an inline form swaps back in."""
    section, client = _section_and_client(request, pk, key)
    return _render_section(request, client, section.key)
