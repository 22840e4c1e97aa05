from typing import Any

import structlog
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.network import client_ip


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django_structlog import signals

        signals.bind_extra_request_metadata.connect(_with_client_ip)
        signals.bind_extra_request_finished_metadata.connect(_with_user_agent)


def _with_client_ip(sender: object, request: Any, **kwargs: Any) -> None:
    """Every log line of the request names the client's address, read as the lockout and
    the rate limits read it."""
    structlog.contextvars.bind_contextvars(ip=client_ip(request))


def _with_user_agent(
    sender: object, request: Any, log_kwargs: dict[str, Any], **kwargs: Any
) -> None:
    """The request's one log line (request_finished) names the user agent, which
    django-structlog writes only on the start line, logged at DEBUG here (settings)."""
    log_kwargs["user_agent"] = request.META.get("HTTP_USER_AGENT")
