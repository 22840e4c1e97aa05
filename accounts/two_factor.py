"""Two-factor authentication: an authenticator app's codes (TOTP) and one-time recovery
codes, kept by django-otp's devices; required of directors and administrators when
TWO_FACTOR_REQUIRED is on (they see every client).

Signing in with a second factor is two steps (accounts.views): the password, then a code;
only then does Django's ``login`` run, so a session always means a verified user and no
request pays for re-checking a device. API tokens are unaffected: they are their own
credential, issued by an administrator.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.access import DIRECTORS, user_has_role
from accounts.models import SecurityEventKind, User
from accounts.services import security_event_record

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"


def two_factor_required(user: User) -> bool:
    """Whether ``user`` may not sign in without a second factor (the setting, for the
    roles that see the whole portfolio)."""
    return bool(settings.TWO_FACTOR_REQUIRED) and user_has_role(user, DIRECTORS)


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _being_set_up(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_setup_start(user: User) -> TOTPDevice:
    """The authenticator being set up for ``user``: the same one until it is confirmed
    (reloading the page shows the same QR code), a new one after."""
    device = _being_set_up(user)
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an SVG QR code, to scan with the app."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))


def secret_text(device: TOTPDevice) -> str:
    """The secret as the app asks for it when typed (base32, in groups of four)."""
    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@transaction.atomic
def totp_setup_confirm(*, user: User, code: str, request: Any = None) -> list[str] | None:
    """Confirm the authenticator being set up with a code it shows: it replaces any
    previous one, and new recovery codes replace the old. Returns the recovery codes (to
    show once), or None when the code is not right."""
    device = _being_set_up(user)
    if device is None or not device.verify_token(_digits(code)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    security_event_record(kind=SecurityEventKind.MFA_ENABLED, request=request, user=user)
    return codes


@transaction.atomic
def recovery_codes_renew(*, user: User, request: Any = None) -> list[str]:
    """New recovery codes; the old ones stop working."""
    codes = _new_recovery_codes(user)
    security_event_record(
        kind=SecurityEventKind.MFA_ENABLED, request=request, user=user, recovery_codes="renewed"
    )
    return codes


@transaction.atomic
def two_factor_disable(*, user: User, request: Any = None) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    security_event_record(kind=SecurityEventKind.MFA_DISABLED, request=request, user=user)


def second_factor_verify(*, user: User, code: str, request: Any = None) -> str | None:
    """Check a code typed at sign-in: the authenticator's (six digits), else a recovery
    code (used up). Returns "totp" or "recovery_code", or None — recorded either way.
    django-otp slows repeated failures on a device (its throttling)."""
    digits = _digits(code)
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if digits and device.verify_token(digits):
            return "totp"
    word = code.strip().lower().replace(" ", "").replace("-", "")
    for static in StaticDevice.objects.filter(user=user, confirmed=True):
        if word and static.verify_token(word):
            security_event_record(
                kind=SecurityEventKind.RECOVERY_CODE_USED,
                request=request,
                user=user,
                left=recovery_codes_left(user),
            )
            return "recovery_code"
    security_event_record(kind=SecurityEventKind.MFA_REFUSED, request=request, user=user)
    return None


def _digits(code: str) -> str:
    text = code.replace(" ", "").strip()
    return text if text.isdigit() and len(text) == 6 else ""


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
