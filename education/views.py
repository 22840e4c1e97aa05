"""Browser pages of education: my actions, the plan's inline actions, notifications and
the directors' playbook pages.

An action renders as one row (``education/action.html#row``) wherever it appears — the
agenda and the client page — and every inline form on it (complete, reschedule, skip)
posts through htmx and gets that row back: updated on success, or with the form still
open, the typed text kept and the error on its field. Without JavaScript the same URLs
redirect, or show the row alone with its form and errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.access import DIRECTORS, AuthenticatedHttpRequest, role_required, user_has_role
from accounts.models import Role, User
from assessments.i18n import localized
from clients.selectors import clients_visible_to
from core.forms import attach_errors
from core.htmx import is_htmx
from core.numbers import whole_number
from education import services
from education.forms import (
    ActionForm,
    CompleteForm,
    RescheduleForm,
    RuleForm,
    SkipForm,
    TemplateForm,
)
from education.messages import text_of
from education.models import ActionTemplate, EducationAction, Playbook, PlaybookRule
from education.selectors import WHEN, action_list, notifications_of, playbooks, worklist

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

NOTIFICATIONS_PAGE_SIZE = 25


def _action(request: AuthenticatedHttpRequest, pk: int) -> EducationAction:
    return get_object_or_404(action_list(user=request.user), pk=pk)


def _next_url(request: AuthenticatedHttpRequest, action: EducationAction) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return reverse("education:agenda")


def _row(
    request: AuthenticatedHttpRequest,
    action: EducationAction,
    *,
    form: forms.Form | None = None,
    open_form: str = "",
) -> HttpResponse:
    context = {
        "action": action,
        "today": timezone.localdate(),
        "form": form,
        "open_form": open_form,
        "next": _next_url(request, action),
        # Closed meanwhile (another tab, a colleague): its forms are gone, so what was
        # typed is shown for copying instead of being lost.
        "unsaved_text": (
            (form.data.get("outcome") or form.data.get("reason") or "")
            if form is not None and not action.is_open
            else ""
        ),
    }
    if is_htmx(request):
        return render(request, "education/action.html#row", context)
    return render(request, "education/action.html", context)


def _done(request: AuthenticatedHttpRequest, action: EducationAction, message: str) -> HttpResponse:
    if is_htmx(request):
        fresh = _action(request, action.pk)
        response = _row(request, fresh)
        # The worklist's tabs and heading count again (the action may have left its group).
        response["HX-Trigger"] = WORKLIST_CHANGED
        return response
    messages.success(request, message)
    return redirect(_next_url(request, action))


@login_required
def agenda(request: AuthenticatedHttpRequest) -> HttpResponse:
    """My actions as a worklist: a group (overdue, this week, later, recently closed) a
    page at a time, with each group's count, narrowed by client or words, or to the
    actions one plan made. Directors may look at anyone's."""
    owner: User = request.user
    owners: list[User] = []
    if user_has_role(request.user, DIRECTORS):
        owners = list(
            User.objects.filter(
                is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.DIRECTOR]
            ).order_by("first_name", "last_name", "username")
        )
        chosen = whole_number(request.GET.get("owner"))
        owner = next((u for u in owners if u.pk == chosen), owner)
    search = request.GET.get("q", "").strip()[:100].replace("\x00", "")
    client, plan = whole_number(request.GET.get("client")), whole_number(request.GET.get("plan"))
    work = worklist(
        user=request.user,
        owner=owner,
        when=request.GET.get("when", ""),
        client=client,
        search=search,
        plan=plan,
        page=request.GET.get("page", "1"),
    )
    kept = {
        key: value
        for key, value in (
            ("owner", str(owner.pk) if owner != request.user else ""),
            ("client", request.GET.get("client", "")),
            ("q", search),
            ("plan", request.GET.get("plan", "")),
        )
        if value
    }
    context = {
        "work": work,
        "groups": [(w, WHEN_LABELS[w], work.counts[w]) for w in WHEN],
        "query": urlencode(kept),
        "search": search,
        "chosen_client": client,
        "plan": plan,
        "owner": owner,
        "owners": owners,
        "today": timezone.localdate(),
        "next": request.get_full_path(),
    }
    template = "education/agenda.html#work" if is_htmx(request) else "education/agenda.html"
    return render(request, template, context)


WORKLIST_CHANGED = "worklist-changed"

WHEN_LABELS = {
    "overdue": gettext_lazy("Overdue"),
    "week": gettext_lazy("This week"),
    "later": gettext_lazy("Later"),
    "closed": gettext_lazy("Closed in the last two weeks"),
}


@login_required
def action_row(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One action alone: its inline form asked for (``?form=complete``), what "Cancel"
    swaps back in, and the no-JavaScript page."""
    step = request.GET.get("form", "")
    return _row(request, _action(request, pk), open_form=step if step in STEPS else "")


@dataclass(frozen=True)
class _Step:
    """One inline form on an action's row: its form, the service it calls, what it says
    when done, and which of the service's fields are the form's (where they differ)."""

    form: type[forms.Form]
    call: Callable[[EducationAction, User, dict[str, Any]], object]
    done: StrOrPromise
    fields: Mapping[str, str] = field(default_factory=dict)


STEPS = {
    "complete": _Step(
        CompleteForm,
        lambda action, by, data: services.action_complete(
            action=action, by=by, outcome=data["outcome"]
        ),
        gettext_lazy("Marked done."),
    ),
    "skip": _Step(
        SkipForm,
        lambda action, by, data: services.action_skip(action=action, by=by, reason=data["reason"]),
        gettext_lazy("Skipped."),
        {"skip_reason": "reason"},
    ),
    "reschedule": _Step(
        RescheduleForm,
        lambda action, by, data: services.action_update(
            action=action, by=by, due_date=data["due_date"]
        ),
        gettext_lazy("Rescheduled."),
    ),
}


@login_required
@require_POST
def action_step(request: AuthenticatedHttpRequest, pk: int, step: str) -> HttpResponse:
    """Complete, skip or reschedule an action from its row."""
    action = _action(request, pk)
    spec = STEPS[step]
    form = spec.form(request.POST)
    if form.is_valid():
        try:
            spec.call(action, request.user, form.cleaned_data)
        except ValidationError as error:
            attach_errors(form, error, spec.fields)
        else:
            return _done(request, action, str(spec.done))
    return _row(request, action, form=form, open_form=step)


@login_required
@require_POST
def action_reopen(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    try:
        services.action_reopen(action=action, by=request.user)
    except ValidationError as error:
        if is_htmx(request):
            form = forms.Form()
            form.add_error(None, error.messages)
            return _row(request, action, form=form, open_form="reopen")
        messages.error(request, " ".join(error.messages))
        return redirect(_next_url(request, action))
    return _done(request, action, _("Reopened."))


@login_required
def action_add(request: AuthenticatedHttpRequest, client_pk: int) -> HttpResponse:
    client = get_object_or_404(clients_visible_to(request.user), pk=client_pk)
    form = ActionForm(request.POST or None, client=client)
    if not client.engagements.exists():
        messages.info(request, _("Add an engagement first: every action belongs to one."))
        return redirect(reverse("clients:detail", args=[client.pk]) + "#engagements")
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            services.action_create(
                engagement=form.cleaned_data["engagement"], by=request.user, **data
            )
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Action added to the plan."))
            return redirect(reverse("clients:detail", args=[client.pk]) + "#plan")
    return render(
        request, "education/action_form.html", {"form": form, "client": client, "action": None}
    )


@login_required
def action_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    client = action.client
    form = ActionForm(request.POST or None, instance=action, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_update(action=action, by=request.user, **form.service_fields())
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_next_url(request, action))
    return render(
        request,
        "education/action_form.html",
        {"form": form, "client": client, "action": action, "next": _next_url(request, action)},
    )


# --- Notifications --------------------------------------------------------------------------


@login_required
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = notifications_of(request.user).order_by("-created_at", "-id")
    if request.GET.get("unread"):
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"notification": n, "text": text_of(n)} for n in page.object_list]
    return render(
        request,
        "education/notifications.html",
        {"page": page, "items": items, "unread_only": bool(request.GET.get("unread"))},
    )


@login_required
@require_POST
def notifications_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    raw = request.POST.getlist("id")
    ids = [int(value) for value in raw if value.isdigit()] if raw else None
    services.notifications_mark_read(user=request.user, ids=ids)
    return redirect("education:notifications")


@login_required
def notification_open(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = get_object_or_404(notifications_of(request.user), pk=pk)
    services.notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect(text_of(notification).url)


# --- Playbooks (directors) -----------------------------------------------------------------


@role_required(*DIRECTORS)
def playbook_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "education/playbooks.html", {"playbooks": list(playbooks())})


def _dimension_choices(playbook: Playbook) -> list[tuple[str, str]]:
    version = playbook.questionnaire.current_version()
    if version is None:
        return []
    return [(d.code, localized(d.name) or d.code) for d in version.dimensions.order_by("position")]


@role_required(*DIRECTORS)
def playbook_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(playbooks(), pk=pk)
    names = dict(_dimension_choices(playbook))
    return render(
        request,
        "education/playbook_detail.html",
        {"playbook": playbook, "dimension_names": names},
    )


@role_required(*DIRECTORS)
def template_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(ActionTemplate.objects.select_related("playbook"), pk=pk)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.template_update(template=template, by=request.user, **form.service_fields())
        except ValidationError as error:
            attach_errors(form, error)
        else:
            messages.success(request, _("Template saved."))
            return redirect("education:playbook", pk=template.playbook_id)
    return render(request, "education/template_form.html", {"form": form, "template": template})


@role_required(*DIRECTORS)
def rule_edit(
    request: AuthenticatedHttpRequest, pk: int | None = None, rule_pk: int | None = None
) -> HttpResponse:
    if rule_pk is not None:
        rule = get_object_or_404(PlaybookRule.objects.select_related("playbook"), pk=rule_pk)
    else:
        rule = PlaybookRule(playbook=get_object_or_404(Playbook, pk=pk))
    playbook = rule.playbook
    form = RuleForm(request.POST or None, instance=rule, dimensions=_dimension_choices(playbook))
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_save(rule=form.instance, by=request.user)
        except ValidationError as error:
            attach_errors(form, error)
        except PermissionDenied:
            raise
        else:
            messages.success(request, _("Rule saved."))
            return redirect("education:playbook", pk=playbook.pk)
    return render(
        request, "education/rule_form.html", {"form": form, "rule": rule, "playbook": playbook}
    )


@role_required(*DIRECTORS)
@require_POST
def rule_delete(request: AuthenticatedHttpRequest, rule_pk: int) -> HttpResponse:
    rule = get_object_or_404(PlaybookRule, pk=rule_pk)
    services.rule_delete(rule=rule, by=request.user)
    messages.success(request, _("Rule deleted."))
    return redirect("education:playbook", pk=rule.playbook_id)
