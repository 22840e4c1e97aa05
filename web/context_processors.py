from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.access import ADMINISTRATORS, DIRECTORS, EVERYONE, user_has_role
from accounts.models import Role
from education.selectors import unread_count


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: tuple[str, ...]
    section: str


# The whole navigation in one place; each entry names the roles that see it.
NAVIGATION = (
    NavItem(_("Home"), "web:home", EVERYONE, "home"),
    NavItem(_("Portfolio"), "dashboards:portfolio", DIRECTORS, "dashboards"),
    NavItem(_("My dashboard"), "dashboards:mine", (Role.ACCOUNT_MANAGER,), "dashboards"),
    NavItem(_("Clients"), "clients:list", EVERYONE, "clients"),
    NavItem(_("My actions"), "education:agenda", EVERYONE, "education"),
    NavItem(_("To review"), "assessments:review_queue", DIRECTORS, "review"),
    NavItem(_("Questionnaires"), "assessments:questionnaires", DIRECTORS, "questionnaires"),
    NavItem(_("Playbooks"), "education:playbooks", DIRECTORS, "playbooks"),
    NavItem(_("API"), "api-docs", EVERYONE, "api"),
    NavItem(_("Administration"), "admin:index", ADMINISTRATORS, "admin"),
)


def _nav_items(user: Any, current: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for item in NAVIGATION:
        if not user_has_role(user, item.roles):
            continue
        url = reverse(item.url_name)
        active = current == url if url == "/" else current.startswith(url)
        items.append({"label": item.label, "url": url, "active": active})
    return items


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "nav_items": [],
            "unread_notifications": 0,
            "may_see_security_log": False,
            "may_handle_personal_data": False,
        }
    # The menu and the bell's count (one indexed COUNT) are worked out only by a template
    # that shows them (the template calls them; cached, so once per request): an
    # autosave's partial, rendered dozens of times per assessment, pays for neither.
    # The security log, and exporting or erasing what is held about a person: directors'.
    directs = user_has_role(user, DIRECTORS)
    return {
        "nav_items": cache(partial(_nav_items, user, request.path)),
        "unread_notifications": cache(partial(unread_count, user)),
        "may_see_security_log": directs,
        "may_handle_personal_data": directs,
    }
