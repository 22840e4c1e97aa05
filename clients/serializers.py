"""The client API's serializers: clients and what belongs to them, each related id
checked against what the caller may see (clients/api.py has the viewsets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.access import DIRECTORS, user_has_role
from accounts.models import User
from api.serializers import PrimaryKeysField
from clients.models import (
    Client,
    Engagement,
    PastExperience,
    Stakeholder,
    TimelineEntry,
    WentWrong,
)
from clients.selectors import (
    clients_visible_to,
    engagement_visible,
    engagements_visible_to,
    team_candidates,
)
from core.sql import holds_a_key


def _requesting_user(context: Mapping[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


# --- Fields ---------------------------------------------------------------------------------


class VisibleClientField(serializers.PrimaryKeyRelatedField):
    """A client id resolved only among the clients the requesting user may see.

    Someone else's client fails with the same "does not exist" error as an id that was
    never used, so the API never confirms that it exists nor reveals its name.
    """

    def get_queryset(self) -> QuerySet[Client]:
        return clients_visible_to(_requesting_user(self.context))


class VisibleEngagementField(serializers.PrimaryKeyRelatedField):
    """An engagement id resolved only among the engagements the requesting user may see.

    ``checked_by_the_service``: an id as JSON sends it is not looked up here but given as
    an unsaved ``Engagement`` with that id alone, for a service whose own statement
    checks the user's sight of it (assessment_start's ``in_sight_of``); the view then
    turns its ``Engagement.DoesNotExist`` into this field's error (``refusal``)."""

    def __init__(self, *, checked_by_the_service: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checked_by_the_service = checked_by_the_service

    def get_queryset(self) -> QuerySet[Engagement]:
        return engagements_visible_to(_requesting_user(self.context)).select_related("client")

    def refusal(self, pk: Any) -> serializers.ValidationError:
        """This field's error for an engagement that does not exist or is out of sight."""
        message = self.error_messages["does_not_exist"].format(pk_value=pk)
        return serializers.ValidationError({str(self.field_name): [message]}, code="does_not_exist")

    def to_internal_value(self, data: Any) -> Engagement:
        # An id as JSON sends it is looked up in one prepared statement (an integration's
        # create or import names one on every call); anything else goes DRF's way, with
        # its errors.
        if type(data) is int and self.checked_by_the_service:
            if not holds_a_key(data):
                self.fail("does_not_exist", pk_value=data)
            return Engagement(pk=data)
        if type(data) is int:  # (one beyond any key finds nothing there, as the ORM's)
            engagement = engagement_visible(_requesting_user(self.context), data)
            if engagement is None:
                self.fail("does_not_exist", pk_value=data)
            return engagement
        return cast(Engagement, super().to_internal_value(data))


# --- Serializers ----------------------------------------------------------------------------


class ClientSerializer(serializers.ModelSerializer):
    """A client. Account managers own what they create; directors choose the owner."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        help_text=_(
            "The owning account manager's user id. Required from directors and "
            "administrators; an account manager always owns the clients they create."
        ),
    )
    team_members = PrimaryKeysField(
        many=True,
        queryset=team_candidates(),
        required=False,
        help_text=_("User ids of the account managers and directors on the client's team."),
    )
    engagement_count = serializers.IntegerField(
        read_only=True, help_text=_("How many engagements the client has.")
    )

    class Meta:
        model = Client
        fields = [
            "id", "name", "legal_name", "tax_id", "segment", "size", "country", "owner",
            "team_members", "notes", "is_active", "engagement_count", "created_at",
            "updated_at",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = _requesting_user(self.context)
        chooses_owner = user_has_role(user, DIRECTORS)
        if self.instance is None:
            if not chooses_owner:
                # A manager who handed a new client to someone else would lose sight of it.
                attrs["owner"] = user
            elif "owner" not in attrs:
                raise serializers.ValidationError(
                    {"owner": self.fields["owner"].error_messages["required"]}, code="required"
                )
        elif not chooses_owner and "owner" in attrs and attrs["owner"].pk != self.instance.owner_id:
            raise serializers.ValidationError(
                {"owner": _("Only directors and administrators may change a client's owner.")},
                code="owner_change_forbidden",
            )
        return attrs


class ClientChildSerializer(serializers.ModelSerializer):
    """Shared by the rows that belong to one client: the client is chosen once, on create."""

    client = VisibleClientField(
        help_text=_("The client's id. It cannot be changed once the row exists.")
    )

    def validate_client(self, client: Client) -> Client:
        if self.instance is not None and client.pk != self.instance.client_id:
            raise serializers.ValidationError(
                _("A row cannot be moved to another client."), code="client_change_forbidden"
            )
        return client


class EngagementSerializer(ClientChildSerializer):
    """An outsourced process with a client; changing ``phase`` records a phase change."""

    class Meta:
        model = Engagement
        fields = [
            "id", "client", "process_type", "description", "start_date", "end_date", "phase",
            "phase_changed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["phase_changed_at"]


class StakeholderSerializer(ClientChildSerializer):
    """A person at the client, with their influence and stance."""

    class Meta:
        model = Stakeholder
        fields = ["id", "client", "name", "role", "email", "phone", "influence", "stance", "notes"]


class PastExperienceSerializer(ClientChildSerializer):
    """An earlier outsourcing relationship of the client and what went wrong in it."""

    went_wrong = serializers.ListField(
        child=serializers.ChoiceField(choices=WentWrong.choices),
        required=False,
        help_text=_("Tags for what went wrong."),
    )

    class Meta:
        model = PastExperience
        fields = [
            "id", "client", "supplier", "process_type", "started_on", "ended_on", "outcome",
            "went_wrong", "severity", "legacy", "legacy_description", "notes",
        ]  # fmt: skip


class TimelineEntrySerializer(ClientChildSerializer):
    """Something that happened with a client; the author is whoever records it."""

    engagement = VisibleEngagementField(
        required=False,
        allow_null=True,
        help_text=_("An engagement of the same client, or null."),
    )

    class Meta:
        model = TimelineEntry
        fields = [
            "id", "client", "engagement", "kind", "relevance", "occurred_on", "title", "body",
            "author", "created_at",
        ]  # fmt: skip
        read_only_fields = ["author"]
