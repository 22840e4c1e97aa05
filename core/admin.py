from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import Heartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that only their services write: operators look, nobody edits or adds.
    Deleting is left to the model's admin to allow."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("source", "beats", "last_seen")
    readonly_fields = ("source", "beats", "last_seen")

    def has_add_permission(self, request):
        return False
