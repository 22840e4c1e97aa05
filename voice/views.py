"""The client respondent's pages (docs/client-voice.md §2): the survey a personal link
opens, its answers saved one by one as they are given, and "I'm done".

A link that opens nothing — wrong, expired, revoked, or its round closed — gets the same
404 page, which says nothing of why. The pages speak the invitation's language unless the
respondent picks another (``?lang=``, carried by every form), link only to themselves and
the static files, and are rate-limited per address."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_POST

from api.throttles import within_limit
from assessments.models import Question
from core import languages
from core.network import client_ip
from voice.models import ClientAnswer, Invitation
from voice.services import (
    StaleClientAnswer,
    client_answer_save,
    client_questions,
    invitation_finish,
    invitation_for_link,
    survey_minutes,
)


@dataclass
class Item:
    question: Question
    value: int | None
    revision: int
    answered: bool
    message: str = ""
    stale: bool = False


def _gone(request: HttpRequest) -> HttpResponse:
    return render(request, "voice/gone.html", status=404)


def _too_many(request: HttpRequest) -> bool:
    """Whether this address has made ``CLIENT_SURVEY_RATE_PER_MINUTE`` requests in the
    last minute (the API's sliding log; a cache away does not close the survey)."""
    return not within_limit(
        "survey",
        client_ip(request) or "unknown",
        calls=settings.CLIENT_SURVEY_RATE_PER_MINUTE,
        duration=60,
    )


def _language(request: HttpRequest, invitation: Invitation) -> str:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    return chosen if chosen in languages.codes() else invitation.language


def _open(request: HttpRequest, secret: str) -> tuple[Invitation | None, HttpResponse | None]:
    if _too_many(request):
        return None, render(request, "voice/too_many.html", status=429)
    invitation = invitation_for_link(secret)
    if invitation is None:
        return None, _gone(request)
    return invitation, None


def _in_their_language(view: Any) -> Any:
    """Run the view in the respondent's language (the invitation's, or the one chosen on
    the page) without leaving it active afterwards, and say so in Content-Language."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, secret: str, **kwargs: Any) -> HttpResponse:
        invitation, refused = _open(request, secret)
        if refused is not None:
            return refused
        assert invitation is not None
        language = _language(request, invitation)
        with translation.override(language):
            response: HttpResponse = view(request, secret, invitation, **kwargs)
        response["Content-Language"] = language
        return response

    return wrapped


def _items(invitation: Invitation, asked: list[Question]) -> list[Item]:
    stored = {a.question_id: a for a in ClientAnswer.objects.filter(invitation=invitation)}
    items = []
    for question in asked:
        answer = stored.get(question.pk)
        items.append(
            Item(
                question=question,
                value=answer.value if answer else None,
                revision=answer.revision if answer else 0,
                answered=answer is not None,
            )
        )
    return items


def _context(request: HttpRequest, invitation: Invitation, secret: str, **extra: Any) -> dict:
    language = translation.get_language()
    return {
        "invitation": invitation,
        "secret": secret,
        "lang": language,
        "languages": [(code, languages.native_name(code)) for code in languages.codes()],
        "supplier": settings.SUPPLIER_NAME,
        "client": invitation.round.engagement.client,
        "engagement": invitation.round.engagement,
        **extra,
    }


@require_GET
@_in_their_language
def survey(request: HttpRequest, secret: str, invitation: Invitation) -> HttpResponse:
    items = _items(invitation, client_questions(invitation.round.version))
    minutes = survey_minutes(len(items))
    context = _context(
        request,
        invitation,
        secret,
        items=items,
        minutes=minutes,
        answered=sum(1 for item in items if item.answered),
    )
    return render(request, "voice/survey.html", context)


@require_POST
@_in_their_language
def answer(
    request: HttpRequest, secret: str, invitation: Invitation, question_pk: int
) -> HttpResponse:
    raw = request.POST.get("value", "")
    value: Any = None if raw in ("", "unsure") else (int(raw) if raw.isdigit() else raw)
    try:
        revision = int(request.POST.get("revision") or 0)
    except ValueError:
        revision = -1
    asked = client_questions(invitation.round.version)
    question = next((q for q in asked if q.pk == question_pk), None)
    if question is None:
        return _gone(request)
    item = Item(question=question, value=None, revision=revision, answered=False)
    status = 200
    try:
        saved = client_answer_save(
            invitation=invitation, question_id=question_pk, value=value, revision=revision
        )
        item.value, item.revision, item.answered = saved.value, saved.revision, True
    except StaleClientAnswer as stale:
        current = stale.current
        item.value = current.value if current else None
        item.revision = current.revision if current else 0
        item.answered = current is not None
        item.stale = True
        status = 409
    except ValidationError as error:
        if getattr(error, "code", None) == "closed":
            return _gone(request)
        item.message = " ".join(error.messages)
        status = 422
    if not request.headers.get("HX-Request"):
        url = reverse("voice:survey", args=[secret])
        return redirect(f"{url}?lang={translation.get_language()}#question-{question_pk}")
    context = _context(
        request,
        invitation,
        secret,
        item=item,
        saved=status == 200,
        answered=ClientAnswer.objects.filter(invitation=invitation).count(),
        total=len(asked),
    )
    return render(request, "voice/_saved.html", context, status=status)


@require_POST
@_in_their_language
def finish(request: HttpRequest, secret: str, invitation: Invitation) -> HttpResponse:
    invitation_finish(invitation=invitation)
    url = reverse("voice:survey", args=[secret])
    return redirect(f"{url}?lang={translation.get_language()}#done")
