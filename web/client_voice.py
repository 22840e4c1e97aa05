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
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AuthenticatedHttpRequest
from clients.models import Engagement
from clients.selectors import engagements_visible_to
from education.selectors import invitation_emails
from voice import services
from voice.forms import InviteForm, RoundOpenForm
from voice.models import Invitation, Round
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
    url = reverse("clients:voice", args=[engagement.client_id, engagement.pk])
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
        )
    return render(request, "clients/voice.html", context, status=status)


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
