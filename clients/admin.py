from django.contrib import admin

from clients import services
from clients.models import (
    AuditEvent,
    Client,
    Engagement,
    EngagementPhaseChange,
    PastExperience,
    Stakeholder,
    TimelineEntry,
)


class EngagementInline(admin.TabularInline):
    """Shown, not edited here: engagements change on their own admin page, through the
    service that keeps the phase history and the audit trail."""

    model = Engagement
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ("process_type", "phase", "start_date", "end_date")
    readonly_fields = fields


class StakeholderInline(admin.TabularInline):
    model = Stakeholder
    extra = 0
    fields = ("name", "role", "influence", "stance", "email")


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "segment", "size", "country", "owner", "is_active")
    list_filter = ("is_active", "segment", "size", "country")
    search_fields = ("name", "legal_name", "tax_id")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    # Team members are edited on the client's page, where the service checks who may join
    # and records the change; here they are shown only.
    readonly_fields = ("team_members",)
    inlines = [EngagementInline, StakeholderInline]

    def save_model(self, request, obj, form, change):
        # Through the service, so admin edits are validated and audited like any other;
        # the admin then saves team members (save_related) on the same instance.
        fields = {k: form.cleaned_data[k] for k in services.CLIENT_FIELDS if k in form.cleaned_data}
        if change:
            saved = services.client_update(
                client=Client.objects.get(pk=obj.pk), by=request.user, **fields
            )
        else:
            saved = services.client_create(by=request.user, **fields)
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ("client", "process_type", "phase", "start_date", "end_date")
    list_filter = ("phase", "process_type")
    search_fields = ("client__name", "description")
    list_select_related = ("client",)
    raw_id_fields = ("client",)

    def save_model(self, request, obj, form, change):
        # Through the service, so a phase change here is recorded in the phase history.
        fields = {
            k: form.cleaned_data[k] for k in services.ENGAGEMENT_FIELDS if k in form.cleaned_data
        }
        if change:
            saved = services.engagement_update(
                engagement=Engagement.objects.get(pk=obj.pk), by=request.user, **fields
            )
        else:
            saved = services.engagement_create(
                client=form.cleaned_data["client"], by=request.user, **fields
            )
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(EngagementPhaseChange)
class EngagementPhaseChangeAdmin(admin.ModelAdmin):
    list_display = ("engagement", "from_phase", "to_phase", "changed_at", "changed_by")
    list_select_related = ("engagement__client", "changed_by")
    raw_id_fields = ("engagement",)


@admin.register(Stakeholder)
class StakeholderAdmin(admin.ModelAdmin):
    list_display = ("name", "client", "role", "influence", "stance")
    list_filter = ("stance", "influence")
    search_fields = ("name", "client__name", "email")
    list_select_related = ("client",)
    raw_id_fields = ("client",)


@admin.register(PastExperience)
class PastExperienceAdmin(admin.ModelAdmin):
    list_display = ("client", "supplier", "process_type", "outcome", "severity", "ended_on")
    list_filter = ("outcome", "severity", "legacy")
    search_fields = ("client__name", "supplier")
    list_select_related = ("client",)
    raw_id_fields = ("client",)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ("title", "client", "kind", "relevance", "occurred_on", "author")
    list_filter = ("kind", "relevance")
    search_fields = ("title", "body", "client__name")
    list_select_related = ("client", "author")
    raw_id_fields = ("client", "engagement")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail is written by the services only: read-only here."""

    list_display = ("at", "client", "subject", "action", "actor")
    list_filter = ("action",)
    search_fields = ("client__name", "subject")
    list_select_related = ("client", "actor")
    readonly_fields = ("client", "engagement", "actor", "action", "subject", "changes", "at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
