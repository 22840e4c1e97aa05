from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import SecurityEventKind
from accounts.services import security_event_record
from api.models import ApiToken
from api.services import api_token_authenticate, api_token_used
from api.throttles import RefusedTokenThrottle


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too)."""

    keywords = ("bearer", "token")

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        token = api_token_authenticate(header[1].decode(errors="replace"))
        # An address that has presented too many bad tokens lately is paused, whatever it
        # sends: asked after the lookup, in the round trip that logs a refusal or the
        # call's rate limits.
        refusals = RefusedTokenThrottle()
        if token is None or not token.user.is_active:
            wait = refusals.refuse(request)
            if wait is not None:
                raise exceptions.Throttled(wait)
            security_event_record(
                kind=SecurityEventKind.TOKEN_REFUSED,
                request=request,
                user=token.user if token is not None else None,
                token=token.pk if token is not None else None,
            )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's user is inactive."))
        wait = refusals.admit(request, token)
        if wait is not None:  # (a paused call records no use: nothing tells a good token)
            raise exceptions.Throttled(wait)
        api_token_used(token)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        # Makes DRF answer 401 (not 403) to anonymous API calls.
        return 'Bearer realm="api"'
