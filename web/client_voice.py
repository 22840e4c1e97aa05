"""The client's view of an engagement, for its managers (docs/client-voice.md): open a
round, invite the client's stakeholders (their link goes out by e-mail), see who answered
and how each e-mail fared, resend or revoke a link, close the round, and read the
perception gap of each dimension.

It composes voice (rounds, gaps) with education (the e-mails' deliveries), so it sits in
web, beside the client page it hangs off. Whoever may see the client manages its rounds,
like the rest of the client page; every URL resolves the engagement among those."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AuthenticatedHttpRequest
from accounts.models import User
from assessments import question_types
from assessments.models import Answer, Question
from clients.models import Engagement
from clients.selectors import engagements_visible_to
from education.selectors import invitation_emails
from voice import reconciliation, services
from voice.forms import InviteForm, RoundOpenForm
from voice.models import Invitation, Rater, Round
from voice.selectors import (
    respondents_of,
    round_gaps,
    rounds_of,
    stakeholders_to_invite,
    versions_asking_the_client,
)


def _engagement(request: AuthenticatedHttpRequest, pk: int, engagement_pk: int) -> Engagement:
    return get_object_or_404(
        engagements_visible_to(request.user).select_related("client"),
        pk=engagement_pk,
        client_id=pk,
    )


def _page_url(engagement: Engagement, round: Round | None = None) -> str:
    url = services.page_path(engagement)
    return url if round is None else f"{url}?round={round.pk}"


def _render(
    request: AuthenticatedHttpRequest,
    engagement: Engagement,
    *,
    shown: Round | None = None,
    open_form: RoundOpenForm | None = None,
    invite_form: InviteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rounds = rounds_of(engagement)
    if shown is None:
        wanted = request.GET.get("round", "")
        shown = next((r for r in rounds if str(r.pk) == wanted), None) or next(iter(rounds), None)
    open_round = next((r for r in rounds if r.is_open), None)
    context: dict[str, Any] = {
        "client": engagement.client,
        "engagement": engagement,
        "rounds": rounds,
        "round": shown,
        "open_round": open_round,
        "open_form": None,
    }
    if open_round is None:
        versions = versions_asking_the_client()
        context["can_open"] = bool(versions)
        context["open_form"] = open_form or RoundOpenForm(versions=versions)
    if shown is not None:
        respondents = respondents_of(shown)
        emails = invitation_emails([r.invitation.pk for r in respondents])
        candidates, without_email = stakeholders_to_invite(shown)
        context.update(
            respondents=[(r, emails.get(r.invitation.pk)) for r in respondents],
            questions=len(services.client_questions(shown.version)),
            finished=sum(1 for r in respondents if r.invitation.finished_at),
            responded=sum(1 for r in respondents if r.answered),
            gaps=round_gaps(shown),
            without_email=without_email,
            invite_form=(invite_form or InviteForm(candidates=candidates))
            if shown.is_open
            else None,
            raters=_raters(shown),
            may_reconcile=reconciliation.may_reconcile(shown, request.user),
            rater_candidates=reconciliation.rater_candidates(shown)
            if shown.is_open and shown.reconciled_id is None
            else [],
        )
    return render(request, "clients/voice.html", context, status=status)


def _raters(round: Round) -> list[tuple[Rater, int]]:
    """The round's raters, each with how many questions their sheet answers."""
    raters = reconciliation.raters_of(round)
    counts = dict(
        Answer.objects.filter(assessment__in=[r.sheet_id for r in raters])
        .values_list("assessment_id")
        .annotate(n=Count("id"))
        .values_list("assessment_id", "n")
    )
    return [(rater, counts.get(rater.sheet_id, 0)) for rater in raters]


@login_required
@require_GET
def voice_page(request: AuthenticatedHttpRequest, pk: int, engagement_pk: int) -> HttpResponse:
    return _render(request, _engagement(request, pk, engagement_pk))


@login_required
@require_POST
def round_open(request: AuthenticatedHttpRequest, pk: int, engagement_pk: int) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    form = RoundOpenForm(request.POST, versions=versions_asking_the_client())
    if form.is_valid():
        try:
            opened = services.round_open(
                engagement=engagement,
                by=request.user,
                closes_on=form.cleaned_data["closes_on"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(_page_url(engagement))
        messages.success(request, _("Round opened: now invite the client's stakeholders."))
        return redirect(_page_url(engagement, opened) + "#invite")
    return _render(request, engagement, open_form=form)


def _round(engagement: Engagement, round_pk: int) -> Round:
    return get_object_or_404(
        Round.objects.select_related("version"), pk=round_pk, engagement=engagement
    )


@login_required
@require_POST
def invite(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, round_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    round = _round(engagement, round_pk)
    candidates, _without = stakeholders_to_invite(round)
    form = InviteForm(request.POST, candidates=candidates)
    if not form.is_valid():
        return _render(request, engagement, shown=round, invite_form=form)
    invited, refused = [], []
    for person in form.cleaned_data["stakeholders"]:
        try:
            services.invitation_create(
                round=round, stakeholder=person, language=form.language_of(person), by=request.user
            )
        except ValidationError as error:
            refused.append(f"{person.name}: {' '.join(error.messages)}")
        else:
            invited.append(person.name)
    if invited:
        messages.success(
            request,
            ngettext(
                "%(count)s stakeholder invited: their link is on its way by e-mail.",
                "%(count)s stakeholders invited: their links are on their way by e-mail.",
                len(invited),
            )
            % {"count": len(invited)},
        )
    for problem in refused:
        messages.error(request, problem)
    return redirect(_page_url(engagement, round) + "#respondents")


def _invitation(engagement: Engagement, invitation_pk: int) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("round", "stakeholder"),
        pk=invitation_pk,
        round__engagement=engagement,
    )


@login_required
@require_POST
def invitation_resend(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, invitation_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    invitation = _invitation(engagement, invitation_pk)
    try:
        services.invitation_resend(invitation=invitation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("A new link is on its way to %(name)s; the old one no longer works.")
            % {"name": invitation.stakeholder.name},
        )
    return redirect(_page_url(engagement, invitation.round) + "#respondents")


@login_required
@require_POST
def invitation_revoke(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, invitation_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    invitation = _invitation(engagement, invitation_pk)
    services.invitation_revoke(invitation=invitation, by=request.user)
    messages.success(
        request,
        _("%(name)s's link no longer works; the answers given stay. Resend to restore it.")
        % {"name": invitation.stakeholder.name},
    )
    return redirect(_page_url(engagement, invitation.round) + "#respondents")


@login_required
@require_POST
def round_close(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, round_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    round = _round(engagement, round_pk)
    services.round_close(round=round, by=request.user)
    messages.success(request, _("Round closed: its links no longer work; the answers stay."))
    return redirect(_page_url(engagement, round))


# --- Raters and reconciliation ------------------------------------------------------------


def _refused(request: AuthenticatedHttpRequest, error: ValidationError | PermissionDenied) -> None:
    if isinstance(error, ValidationError):
        messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, str(error) or _("You may not do that."))


@login_required
@require_POST
def rater_add(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, round_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    round = _round(engagement, round_pk)
    raw = request.POST.get("user", "")
    chosen = User.objects.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() else None
    if chosen is None:
        messages.error(request, _("Choose who rates the round."))
        return redirect(_page_url(engagement, round) + "#raters")
    try:
        reconciliation.rater_add(round=round, user=chosen, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("%(name)s is asked to rate on a sheet of their own.")
            % {"name": chosen.get_full_name() or chosen.username},
        )
    return redirect(_page_url(engagement, round) + "#raters")


@login_required
@require_POST
def rater_remove(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, rater_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    rater = get_object_or_404(
        Rater.objects.select_related("round", "sheet", "user"),
        pk=rater_pk,
        round__engagement=engagement,
    )
    try:
        reconciliation.rater_remove(rater=rater, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    else:
        messages.success(request, _("Rater taken off the round, with their sheet."))
    return redirect(_page_url(engagement, rater.round) + "#raters")


def _shown(question: Question, value: Any, not_applicable: bool) -> str:
    if not_applicable:
        return _("Not applicable")
    if value is None or value == "":
        return "—"
    return question_types.get(question.type).shown(question, value)


def _reconcile_url(engagement: Engagement, round: Round) -> str:
    return reverse("clients:voice_reconcile", args=[engagement.client_id, engagement.pk, round.pk])


def _render_reconciliation(
    request: AuthenticatedHttpRequest,
    engagement: Engagement,
    round: Round,
    *,
    problems: dict[int, dict[str, list[str]]] | None = None,
    typed: dict[int, dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    found = reconciliation.reconciliation_of(round)
    lines: list[dict[str, Any]] = []
    for line in found.lines:
        agreed = line.agreed
        kept = (typed or {}).get(line.question.pk)
        lines.append(
            {
                "line": line,
                "ratings": [
                    (r, _shown(line.question, r.value, r.not_applicable)) for r in line.ratings
                ],
                "agreed": _shown(line.question, *agreed) if agreed else "—",
                # What the decision form shows: what was typed (after a refusal), else
                # the decision, else the proposal.
                "item": kept
                or {
                    "value": agreed[0] if agreed else None,
                    "not_applicable": bool(agreed and agreed[1]),
                    "reason": line.decision.reason if line.decision else "",
                },
                "errors": (problems or {}).get(line.question.pk, {}),
                "template": question_types.get(line.question.type).template,
            }
        )
    return render(
        request,
        "clients/reconcile.html",
        {
            "client": engagement.client,
            "engagement": engagement,
            "round": round,
            "found": found,
            "far": [entry for entry in lines if entry["line"].far_apart],
            "near": [entry for entry in lines if not entry["line"].far_apart],
            "may_reconcile": reconciliation.may_reconcile(round, request.user),
        },
        status=status,
    )


@login_required
@require_GET
def reconcile_page(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, round_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    round = _round(engagement, round_pk)
    if not reconciliation.may_see_sheets(round, request.user):
        messages.info(request, _("Hand in your own sheet first: then you see the others'."))
        return redirect(_page_url(engagement, round) + "#raters")
    return _render_reconciliation(request, engagement, round)


@login_required
@require_POST
def decision_save(
    request: AuthenticatedHttpRequest,
    pk: int,
    engagement_pk: int,
    round_pk: int,
    question_pk: int,
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    round = _round(engagement, round_pk)
    question = get_object_or_404(Question, pk=question_pk, dimension__version=round.version)
    raw = request.POST.get("value", "")
    not_applicable = request.POST.get("not_applicable") == "on"
    value = question_types.get(question.type).parse(raw.strip()) if raw.strip() else None
    reason = request.POST.get("reason", "")
    try:
        reconciliation.decision_record(
            round=round,
            question=question,
            value=value,
            not_applicable=not_applicable,
            reason=reason,
            by=request.user,
        )
    except PermissionDenied as error:
        _refused(request, error)
    except ValidationError as error:
        problems = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        typed = {"value": value, "not_applicable": not_applicable, "reason": reason}
        return _render_reconciliation(
            request,
            engagement,
            round,
            problems={question.pk: problems},
            typed={question.pk: typed},
            status=400,
        )
    else:
        messages.success(request, _("Agreed answer recorded."))
    return redirect(_reconcile_url(engagement, round) + f"#question-{question.pk}")


@login_required
@require_POST
def reconcile(
    request: AuthenticatedHttpRequest, pk: int, engagement_pk: int, round_pk: int
) -> HttpResponse:
    engagement = _engagement(request, pk, engagement_pk)
    round = _round(engagement, round_pk)
    try:
        assessment = reconciliation.round_reconcile(round=round, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return redirect(_reconcile_url(engagement, round))
    messages.success(
        request, _("Reconciled: this is the round's assessment, scored and submitted.")
    )
    return redirect("assessments:result", pk=assessment.pk)
