from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from assessments.i18n import localized
from assessments.models import Dimension, Question, Questionnaire, QuestionnaireVersion
from assessments.services import DocumentProblems, version_copy_to_draft, version_publish


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("code", "display_name", "is_default", "created_at")
    search_fields = ("code",)

    @admin.display(description=_("name"))
    def display_name(self, obj: Questionnaire) -> str:
        return localized(obj.name)


class ReadOnlyWhenPublished(admin.ModelAdmin):
    """Published and retired versions are immutable: the admin shows them read-only (and
    the models refuse the write anyway)."""

    def _version_of(self, obj):
        return obj if isinstance(obj, QuestionnaireVersion) else getattr(obj, "version", None)

    def has_change_permission(self, request, obj=None):
        version = self._version_of(obj) if obj is not None else None
        if version is not None and not version.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        version = self._version_of(obj) if obj is not None else None
        if version is not None and not version.is_editable:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(ReadOnlyWhenPublished):
    list_display = ("questionnaire", "number", "status", "published_at", "published_by")
    list_filter = ("status", "questionnaire")
    readonly_fields = (
        "questionnaire",
        "number",
        "status",
        "based_on",
        "published_at",
        "published_by",
    )
    actions = ["copy_to_draft", "publish"]

    def has_add_permission(self, request):
        return False  # versions come from import or copy, never empty

    @admin.action(description=_("Copy to a new draft"))
    def copy_to_draft(self, request, queryset):
        for version in queryset:
            draft = version_copy_to_draft(version=version, by=request.user)
            self.message_user(
                request, _("Draft %(draft)s created.") % {"draft": draft}, messages.SUCCESS
            )

    @admin.action(description=_("Publish"))
    def publish(self, request, queryset):
        for version in queryset:
            if not version.is_editable:
                self.message_user(
                    request,
                    _("%(version)s is already published.") % {"version": version},
                    messages.ERROR,
                )
                continue
            try:
                version_publish(version=version, by=request.user)
            except DocumentProblems as problems:
                for problem in problems.problems:
                    self.message_user(request, f"{version}: {problem}", messages.ERROR)
                continue
            self.message_user(
                request, _("%(version)s published.") % {"version": version}, messages.SUCCESS
            )


@admin.register(Dimension)
class DimensionAdmin(ReadOnlyWhenPublished):
    list_display = ("code", "version", "kind", "weight", "position")
    list_filter = ("kind", "version__questionnaire")
    list_select_related = ("version__questionnaire",)
    readonly_fields = ("version", "code")

    def has_add_permission(self, request):
        return False


@admin.register(Question)
class QuestionAdmin(ReadOnlyWhenPublished):
    list_display = (
        "code",
        "version",
        "dimension",
        "type",
        "weight",
        "reverse",
        "required",
        "allow_na",
    )
    list_filter = ("type", "reverse", "version__questionnaire")
    search_fields = ("code",)
    list_select_related = ("version__questionnaire", "dimension")
    readonly_fields = ("version", "dimension", "code", "type")

    def has_add_permission(self, request):
        return False
