"""The client's voice in the admin: read-only, for operators looking into a round. The
link's digest is not shown (nor is the secret, which is not stored)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from voice.models import ClientAnswer, Invitation, Round


class _ReadOnly(ReadOnlyAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvitationInline(admin.TabularInline):
    model = Invitation
    fields = ("stakeholder", "language", "expires_at", "reminded_at", "revoked_at", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Round)
class RoundAdmin(_ReadOnly):
    list_display = ("engagement", "version", "opened_at", "closes_on", "closed_at")
    list_filter = ("closed_at",)
    list_select_related = ("engagement__client", "version__questionnaire")
    inlines = [InvitationInline]


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly):
    list_display = ("stakeholder", "round", "language", "reminded_at", "revoked_at", "finished_at")
    list_select_related = ("stakeholder__client", "round__engagement__client")
    exclude = ("token_digest",)


@admin.register(ClientAnswer)
class ClientAnswerAdmin(_ReadOnly):
    list_display = ("invitation", "question", "value", "revision", "updated_at")
    list_select_related = ("invitation__stakeholder", "question")
