from django.contrib import admin

from core.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("source", "beats", "last_seen")
    readonly_fields = ("source", "beats", "last_seen")

    def has_add_permission(self, request):
        return False
