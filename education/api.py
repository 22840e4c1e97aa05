"""REST API for education: actions (list, change, complete, skip, reopen), playbooks
(read) and the caller's notifications.

Every read starts from the selectors (scoped like the pages: another manager's action
answers 404) and every write goes through education.services.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from api.serializers import service_errors_as_drf
from clients.serializers import VisibleEngagementField
from education import services
from education.filters import EducationActionFilter
from education.messages import text_of
from education.models import (
    ActionTemplate,
    ActionType,
    Delivery,
    DeliveryState,
    EducationAction,
    Notification,
    Playbook,
    PlaybookRule,
)
from education.selectors import action_list, notifications_of, playbooks


class EducationActionSerializer(serializers.ModelSerializer):
    """An education action. ``title``/``description`` are what people see (the template's
    text in the caller's language unless changed)."""

    engagement = VisibleEngagementField(
        help_text=_("The engagement the action belongs to (only on create).")
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=_("Who runs it: the client's owner, a team member or a director."),
    )
    title = serializers.CharField(source="display_title", max_length=200, required=False)
    description = serializers.CharField(
        source="display_description", max_length=5000, required=False, allow_blank=True
    )
    audience = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=20, required=False
    )
    is_overdue = serializers.SerializerMethodField()
    # Null on an action added by hand (the fuzzer found it declared a string).
    template: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = EducationAction
        fields = [
            "id", "client", "engagement", "plan", "template", "source_assessment",
            "occurrence", "action_type", "title", "description", "reasons", "owner",
            "audience", "target_dimensions", "due_date", "every_weeks", "status",
            "is_overdue", "outcome", "skip_reason", "completed_at", "completed_by",
            "reminded_at", "overdue_at", "escalated_at", "uplift", "maturity_delta",
            "defensiveness_delta", "dimension_deltas", "uplift_assessment", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "client", "plan", "template", "source_assessment", "occurrence", "reasons",
            "target_dimensions", "status", "outcome", "skip_reason", "completed_at",
            "completed_by", "reminded_at", "overdue_at", "escalated_at", "uplift",
            "maturity_delta", "defensiveness_delta", "dimension_deltas", "uplift_assessment",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_is_overdue(self, obj: EducationAction) -> bool:
        from django.utils import timezone

        return obj.is_open and obj.due_date < timezone.localdate()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["engagement"].read_only = True
        return fields

    def _service_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        if "display_title" in out:
            out["title"] = out.pop("display_title")
        if "display_description" in out:
            out["description"] = out.pop("display_description")
        out.pop("engagement", None)
        return out

    def create(self, validated_data: dict[str, Any]) -> EducationAction:
        request = self.context["request"]
        fields = self._service_fields(validated_data)
        with service_errors_as_drf():
            return services.action_create(
                engagement=validated_data["engagement"],
                by=request.user,
                action_type=fields.pop("action_type", ""),
                title=fields.pop("title", ""),
                due_date=fields.pop("due_date", None),
                **fields,
            )

    def update(self, instance: EducationAction, validated_data: dict[str, Any]) -> EducationAction:
        request = self.context["request"]
        with service_errors_as_drf():
            return services.action_update(
                action=instance, by=request.user, **self._service_fields(validated_data)
            )


class CompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(
        max_length=5000, help_text=_("What came of it: who attended, what was agreed.")
    )


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text=_("Why it is not done."))


@extend_schema_view(
    list=extend_schema(
        summary=_("List education actions"),
        description=_(
            "The actions of the clients the caller may see. Filters: `owner`, `status` "
            "(`planned`, `done`, `skipped`, or `overdue`), `action_type`, `client`, "
            "`engagement`, `due_after`, `due_before` (dates)."
        ),
    ),
    retrieve=extend_schema(summary=_("One education action")),
    create=extend_schema(
        summary=_("Add an action to an engagement's plan"),
        examples=[
            OpenApiExample(
                "A site visit",
                value={
                    "engagement": 12,
                    "action_type": "site_visit",
                    "title": "Visit to the Recife operation",
                    "due_date": "2027-01-15",
                    "audience": ["Operations", "Quality"],
                },
                request_only=True,
            )
        ],
    ),
    update=extend_schema(summary=_("Change a planned action")),
    partial_update=extend_schema(
        summary=_("Edit, reassign or reschedule a planned action"),
        description=_(
            "Send `owner` to reassign (the new owner is notified) or `due_date` to "
            "reschedule (reminders start over)."
        ),
    ),
)
class EducationActionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = EducationActionSerializer
    filterset_class = EducationActionFilter

    def get_queryset(self) -> QuerySet[EducationAction]:
        return action_list(user=self.request.user)

    @property
    def user(self) -> User:
        # IsAuthenticated runs first: every request that reaches an action has a real user.
        return cast(User, self.request.user)

    def _respond(self, action_obj: EducationAction) -> Response:
        fresh = self.get_queryset().get(pk=action_obj.pk)
        return Response(self.get_serializer(fresh).data)

    @extend_schema(
        summary=_("Complete an action"),
        request=CompleteSerializer,
        responses={200: EducationActionSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def complete(self, request: Request, pk: Any = None) -> Response:
        target = self.get_object()
        payload = CompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors_as_drf():
            done = services.action_complete(
                action=target, by=self.user, outcome=payload.validated_data["outcome"]
            )
        return self._respond(done)

    @extend_schema(
        summary=_("Skip an action, with the reason"),
        request=SkipSerializer,
        responses={200: EducationActionSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def skip(self, request: Request, pk: Any = None) -> Response:
        target = self.get_object()
        payload = SkipSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors_as_drf():
            skipped = services.action_skip(
                action=target, by=self.user, reason=payload.validated_data["reason"]
            )
        return self._respond(skipped)

    @extend_schema(
        summary=_("Reopen a completed or skipped action"),
        request=None,
        responses={200: EducationActionSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reopen(self, request: Request, pk: Any = None) -> Response:
        target = self.get_object()
        with service_errors_as_drf():
            reopened = services.action_reopen(action=target, by=self.user)
        return self._respond(reopened)


# --- Playbooks ----------------------------------------------------------------------------


class ActionTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionTemplate
        fields = [
            "id", "code", "action_type", "title", "description", "lead_time_days",
            "recurrence", "every_weeks", "audience", "target_dimensions",
        ]  # fmt: skip


class PlaybookRuleSerializer(serializers.ModelSerializer):
    # Null on an action added by hand (the fuzzer found it declared a string).
    template: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = PlaybookRule
        fields = [
            "id", "template", "kind", "dimension_code", "threshold", "min_defensiveness",
            "max_defensiveness", "quadrant", "phase", "phases",
        ]  # fmt: skip


class PlaybookSerializer(serializers.ModelSerializer):
    questionnaire: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    templates = ActionTemplateSerializer(many=True, read_only=True)
    rules = PlaybookRuleSerializer(many=True, read_only=True)

    class Meta:
        model = Playbook
        fields = [
            "id", "code", "name", "description", "questionnaire", "is_active", "templates",
            "rules",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(summary=_("List playbooks, with their templates and rules")),
    retrieve=extend_schema(summary=_("One playbook")),
)
class PlaybookViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only: playbooks are tuned by directors on their pages."""

    serializer_class = PlaybookSerializer

    def get_queryset(self) -> QuerySet[Playbook]:
        return playbooks()


# --- Notifications ------------------------------------------------------------------------


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["channel", "state", "attempts", "sent_at"]


class NotificationSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    deliveries = DeliverySerializer(many=True, read_only=True)
    email_state = serializers.SerializerMethodField(
        help_text=_("The e-mail delivery's state; `skipped` when there is none (no address).")
    )
    sent_at = serializers.SerializerMethodField(help_text=_("When the e-mail was sent."))

    class Meta:
        model = Notification
        fields = [
            "id", "kind", "title", "body", "url", "action", "params", "created_at",
            "read_at", "deliveries", "email_state", "sent_at",
        ]  # fmt: skip

    def _email(self, obj: Notification) -> Delivery | None:
        # The deliveries are prefetched: no query per notification.
        return next((d for d in obj.deliveries.all() if d.channel == "email"), None)

    @extend_schema_field(serializers.ChoiceField(choices=[*DeliveryState.values, "skipped"]))
    def get_email_state(self, obj: Notification) -> str:
        email = self._email(obj)
        return email.state if email else "skipped"

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_sent_at(self, obj: Notification) -> str | None:
        email = self._email(obj)
        if email is None or email.sent_at is None:
            return None
        return serializers.DateTimeField().to_representation(email.sent_at)

    def get_title(self, obj: Notification) -> str:
        return text_of(obj).title

    def get_body(self, obj: Notification) -> str:
        return text_of(obj).body

    def get_url(self, obj: Notification) -> str:
        return text_of(obj).url


class ReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text=_("Which to mark read; all unread ones when omitted."),
    )


UNREAD = inline_serializer("UnreadCount", fields={"unread": serializers.IntegerField()})


@extend_schema_view(
    list=extend_schema(
        summary=_("The caller's notifications, newest first"),
        description=_("`?unread=true` lists only the unread ones."),
    ),
    retrieve=extend_schema(summary=_("One of the caller's notifications")),
)
class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = NotificationSerializer

    @property
    def user(self) -> User:
        return cast(User, self.request.user)

    def get_queryset(self) -> QuerySet[Notification]:
        rows = notifications_of(self.request.user).prefetch_related("deliveries")
        if self.request.query_params.get("unread") in {"1", "true", "yes"}:
            rows = rows.filter(read_at__isnull=True)
        return rows

    @extend_schema(summary=_("How many are unread"), responses={200: UNREAD})
    @action(detail=False, methods=["get"], url_path="unread-count", pagination_class=None)
    def unread_count(self, request: Request) -> Response:
        count = notifications_of(request.user).filter(read_at__isnull=True).count()
        return Response({"unread": count})

    @extend_schema(
        summary=_("Mark notifications read"), request=ReadSerializer, responses={200: UNREAD}
    )
    @action(detail=False, methods=["post"], url_path="read", pagination_class=None)
    def mark_read(self, request: Request) -> Response:
        payload = ReadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = payload.validated_data.get("ids")
        services.notifications_mark_read(user=self.user, ids=ids)
        count = notifications_of(request.user).filter(read_at__isnull=True).count()
        return Response({"unread": count})


__all__ = ["ActionType", "EducationActionViewSet", "NotificationViewSet", "PlaybookViewSet"]
