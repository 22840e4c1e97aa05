from django.contrib import admin

from clients.models import (
    Client,
    Engagement,
    EngagementPhaseChange,
    PastExperience,
    Stakeholder,
    TimelineEntry,
)


class EngagementInline(admin.TabularInline):
    model = Engagement
    extra = 0
    fields = ("process_type", "phase", "start_date", "end_date")


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
    filter_horizontal = ("team_members",)
    inlines = [EngagementInline, StakeholderInline]


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ("client", "process_type", "phase", "start_date", "end_date")
    list_filter = ("phase", "process_type")
    search_fields = ("client__name", "description")
    list_select_related = ("client",)
    raw_id_fields = ("client",)


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
