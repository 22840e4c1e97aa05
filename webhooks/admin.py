"""Webhooks in the admin: for operators to look into what was sent and why it failed.
Endpoints are managed on their own pages (Webhooks, in the user menu), where the secret is
shown once and every change goes through webhooks.services; here everything is read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin as _ReadOnly
from webhooks.models import Attempt, Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(_ReadOnly):
    list_display = ("url", "is_active", "consecutive_failures", "disabled_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    # Never the secrets.
    exclude = ("secret", "previous_secret")


@admin.register(Event)
class EventAdmin(_ReadOnly):
    list_display = ("id", "type", "version", "created_at")
    list_filter = ("type",)
    date_hierarchy = "created_at"


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "status_code", "latency_ms", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = ("event", "endpoint", "state", "attempts", "next_attempt_at", "last_status")
    list_filter = ("state",)
    list_select_related = ("event", "endpoint")
    inlines = [AttemptInline]
