"""Admin for the dashboards' projection and summaries: read-only, since every row is
derived (``refresh_dashboards`` rebuilds them), with a button to rebuild the summaries."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from dashboards.models import DimensionSlot, Standing, SummaryState
from dashboards.summaries import summaries_rebuild


class DerivedAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Standing)
class StandingAdmin(DerivedAdmin):
    list_display = (
        "engagement",
        "client_name",
        "segment",
        "client_owner",
        "maturity_score",
        "defensiveness_index",
        "quadrant",
        "submitted_at",
    )
    list_filter = ("segment", "quadrant", "maturity_level", "client_active")
    search_fields = ("client_name",)
    list_select_related = ("engagement", "client_owner")


@admin.register(DimensionSlot)
class DimensionSlotAdmin(DerivedAdmin):
    list_display = ("questionnaire", "code", "slot")
    list_filter = ("questionnaire",)


@admin.register(SummaryState)
class SummaryStateAdmin(DerivedAdmin):
    list_display = ("refreshed_at", "seconds")
    actions = ["rebuild"]

    @admin.action(description=_("Rebuild the summaries now"))
    def rebuild(self, request: Any, queryset: Any) -> None:
        state = summaries_rebuild()
        self.message_user(
            request,
            _("Summaries rebuilt in %(seconds).1f s.") % {"seconds": state.seconds},
            messages.SUCCESS,
        )
