"""Admin for education. Writes that have rules (actions, notifications, plans) go through
the services; the rows themselves are shown read-only so no admin edit skips them."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assessments.i18n import localized
from education import services
from education.models import (
    ActionTemplate,
    Delivery,
    EducationAction,
    EducationPlan,
    Notification,
    Playbook,
    PlaybookRule,
    ReassessmentSchedule,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionTemplateInline(admin.TabularInline):
    model = ActionTemplate
    extra = 0
    fields = ("code", "action_type", "lead_time_days", "recurrence", "every_weeks", "position")
    show_change_link = True


class PlaybookRuleInline(admin.TabularInline):
    model = PlaybookRule
    extra = 0
    fields = ("template", "kind", "dimension_code", "threshold", "min_defensiveness",
              "max_defensiveness", "quadrant", "phase", "phases", "position")  # fmt: skip


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("code", "display_name", "questionnaire", "is_active", "updated_at")
    list_filter = ("is_active",)
    inlines = [ActionTemplateInline, PlaybookRuleInline]

    @admin.display(description=_("name"))
    def display_name(self, obj: Playbook) -> str:
        return localized(obj.name)


@admin.register(ActionTemplate)
class ActionTemplateAdmin(admin.ModelAdmin):
    list_display = ("code", "playbook", "action_type", "lead_time_days", "recurrence")
    list_filter = ("playbook", "action_type")


@admin.register(EducationPlan)
class EducationPlanAdmin(ReadOnlyAdmin):
    list_display = ("engagement", "assessment", "status", "requested_at", "built_at", "builds")
    list_filter = ("status",)
    actions = ["rebuild"]

    @admin.action(description=_("Build again (adds what is missing, duplicates nothing)"))
    def rebuild(self, request, queryset):
        for plan in queryset.select_related("assessment"):
            services.plan_request(assessment=plan.assessment)
        self.message_user(request, _("Rebuild requested."), messages.SUCCESS)


@admin.register(EducationAction)
class EducationActionAdmin(ReadOnlyAdmin):
    list_display = ("display_title", "client", "action_type", "owner", "due_date", "status")
    list_filter = ("status", "action_type")
    search_fields = ("title", "client__name")
    list_select_related = ("client", "owner", "template")
    date_hierarchy = "due_date"


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("channel", "state", "attempts", "next_attempt_at", "sent_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _queued_again(admin_: admin.ModelAdmin, request, count: int) -> None:
    admin_.message_user(
        request,
        ngettext("%(count)s delivery queued again.", "%(count)s deliveries queued again.", count)
        % {"count": count},
    )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "recipient", "created_at", "read_at")
    list_filter = ("kind", "deliveries__channel", "deliveries__state")
    search_fields = ("idempotency_key", "recipient__username")
    list_select_related = ("recipient",)
    inlines = [DeliveryInline]
    actions = ["retry_deliveries"]

    @admin.action(description=_("Send again (failed deliveries)"))
    def retry_deliveries(self, request, queryset):
        count = services.notifications_retry(ids=queryset.values_list("pk", flat=True))
        _queued_again(self, request, count)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("notification", "channel", "state", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("channel", "state")
    search_fields = ("notification__idempotency_key", "notification__recipient__username")
    list_select_related = ("notification__recipient",)
    actions = ["retry"]

    @admin.action(description=_("Send again (failed ones)"))
    def retry(self, request, queryset):
        count = services.deliveries_retry(ids=queryset.values_list("pk", flat=True))
        _queued_again(self, request, count)


@admin.register(ReassessmentSchedule)
class ReassessmentScheduleAdmin(ReadOnlyAdmin):
    list_display = ("engagement", "last_assessment", "due_at", "prompted_at")
