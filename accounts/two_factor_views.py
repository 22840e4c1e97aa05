"""The second step of signing in (a code, or setting up the authenticator when it is
required and missing) and each user's two-factor page."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.access import AuthenticatedHttpRequest
from accounts.models import User
from accounts.two_factor import (
    has_two_factor,
    qr_svg,
    recovery_codes_left,
    recovery_codes_renew,
    second_factor_verify,
    secret_text,
    totp_setup_confirm,
    totp_setup_start,
    two_factor_disable,
    two_factor_required,
)

PENDING = "two_factor_pending"
# The password step is good this long, and for this many wrong codes: then it starts over.
PENDING_SECONDS = 300
PENDING_TRIES = 5


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def start_second_step(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """After a right password: remember who is signing in (not signed in yet) and ask for
    the second step."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", ""),
        "next": next_url,
        "at": time.time(),
        "tries": 0,
    }
    return redirect("accounts:second_factor")


def _pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    pending = request.session.get(PENDING) or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, {}
    user = User.objects.filter(pk=pending.get("user") or 0, is_active=True).first()
    return user, pending


def _finish(request: HttpRequest, user: User, pending: dict[str, Any], how: str) -> None:
    request.session.pop(PENDING, None)
    request.second_factor = how  # type: ignore[attr-defined]  # read by the login's record
    login(request, user, backend=pending["backend"] or None)


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """The code from the authenticator (or a recovery code); for a user who must have two
    factors and has none, setting the authenticator up instead."""
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(PENDING, None)
        messages.info(request, _("Sign in again: the first step is valid for five minutes."))
        return redirect("accounts:login")
    if not has_two_factor(user):
        return _enroll_while_signing_in(request, user, pending)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        how = second_factor_verify(user=user, code=form.cleaned_data["code"], request=request)
        if how is not None:
            _finish(request, user, pending, how)
            if how == "recovery_code" and recovery_codes_left(user) <= 2:
                messages.warning(
                    request, _("You are running out of recovery codes: make new ones now.")
                )
                return redirect("accounts:two_factor")
            return redirect(pending["next"])
        pending["tries"] += 1
        request.session[PENDING] = pending
        if pending["tries"] >= PENDING_TRIES:
            request.session.pop(PENDING, None)
            messages.error(request, _("Too many wrong codes: sign in again."))
            return redirect("accounts:login")
        form.add_error("code", _("That code is not right. Codes change every 30 seconds."))
    return render(request, "accounts/second_factor.html", {"form": form, "person": user})


def _enroll_while_signing_in(
    request: HttpRequest, user: User, pending: dict[str, Any]
) -> HttpResponse:
    if not two_factor_required(user):  # the device went away meanwhile: password was enough
        _finish(request, user, pending, "")
        return redirect(pending["next"])
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_setup_confirm(user=user, code=form.cleaned_data["code"], request=request)
        if codes is not None:
            _finish(request, user, pending, "totp")
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": pending["next"]}
            )
        form.add_error("code", _("That code is not right. Check the app's clock and try again."))
    return _setup_page(request, user, form, signing_in=True)


@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def two_factor(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A user's own two-factor page: turn it on (scan, confirm), make new recovery codes,
    or turn it off (a code needed; not for whom it is required)."""
    user = request.user
    action = request.POST.get("action", "")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and action == "setup":
        if form.is_valid():
            codes = totp_setup_confirm(user=user, code=form.cleaned_data["code"], request=request)
            if codes is not None:
                return render(
                    request, "accounts/recovery_codes.html", {"codes": codes, "next": "/"}
                )
            form.add_error(
                "code", _("That code is not right. Check the app's clock and try again.")
            )
        return _setup_page(request, user, form)
    if request.method == "POST" and action == "renew" and has_two_factor(user):
        codes = recovery_codes_renew(user=user, request=request)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": "/"})
    if request.method == "POST" and action == "disable" and has_two_factor(user):
        if two_factor_required(user):
            messages.error(request, _("Your role must sign in with two factors."))
        elif form.is_valid() and second_factor_verify(
            user=user, code=form.cleaned_data["code"], request=request
        ):
            two_factor_disable(user=user, request=request)
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:two_factor")
        else:
            form.add_error("code", _("That code is not right."))
    if request.GET.get("setup"):  # on, or onto another phone (confirming replaces the old)
        return _setup_page(request, user, CodeForm())
    return render(
        request,
        "accounts/two_factor.html",
        {
            "enabled": has_two_factor(user),
            "required": two_factor_required(user),
            "codes_left": recovery_codes_left(user),
            "form": form if action == "disable" else CodeForm(),
        },
    )


def _setup_page(
    request: HttpRequest, user: User, form: CodeForm, *, signing_in: bool = False
) -> HttpResponse:
    """The authenticator's QR code and key, and the form confirming it with a code."""
    device = totp_setup_start(user)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": qr_svg(device),
            "secret": secret_text(device),
            "signing_in": signing_in,
        },
    )
