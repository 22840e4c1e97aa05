"""REST API for clients and what hangs off them: engagements, stakeholders, past
experiences and timeline entries.

Serializers parse and validate; every write goes through clients.services, and every read
starts from the selectors in clients.selectors, so a row the caller may not see answers 404
(or, as a related id, fails exactly like an id that does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, cast

from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts.models import User
from api.conditional import ConditionalMixin
from api.mixins import FiltersOnList
from api.serializers import service_errors_as_drf
from clients.filters import (
    ClientFilter,
    EngagementFilter,
    PastExperienceFilter,
    StakeholderFilter,
    TimelineEntryFilter,
)
from clients.models import (
    Client,
    Engagement,
    PastExperience,
    Stakeholder,
    TimelineEntry,
)
from clients.selectors import (
    client_list,
    engagements_visible_to,
    past_experiences_visible_to,
    stakeholders_visible_to,
    timeline_entries_visible_to,
)
from clients.serializers import (
    ClientSerializer,
    EngagementSerializer,
    PastExperienceSerializer,
    StakeholderSerializer,
    TimelineEntrySerializer,
)
from clients.services import (
    client_archive,
    client_create,
    client_update,
    engagement_create,
    engagement_delete,
    engagement_update,
    past_experience_create,
    past_experience_delete,
    past_experience_update,
    stakeholder_create,
    stakeholder_delete,
    stakeholder_update,
    timeline_entry_create,
    timeline_entry_delete,
    timeline_entry_update,
)

# --- Viewsets -------------------------------------------------------------------------------


class ScopedViewSet(FiltersOnList, ConditionalMixin, viewsets.ModelViewSet):
    """Base of the clients API's viewsets: filters apply to lists only; detail reads carry
    an ETag and writes honour If-Match (api/conditional.py)."""

    @property
    def user(self) -> User:
        # IsAuthenticated (the default permission) has already refused anonymous callers.
        return cast(User, self.request.user)


class ClientApiFilter(ClientFilter):
    """ClientFilter without ``ordering``: cursor pagination re-orders every list by its own
    key ("-id"), so a requested order would be silently ignored; better not to offer it.
    An unknown ``status`` is a 400, not the active clients."""

    ordering = None
    unknown_status_is_active = False


CLIENT_EXAMPLE = {
    "id": 42,
    "name": "Banco Horizonte",
    "legal_name": "Banco Horizonte S.A.",
    "tax_id": "12.345.678/0001-90",
    "segment": "banking",
    "size": "enterprise",
    "country": "BR",
    "owner": 7,
    "team_members": [9, 12],
    "notes": "Audits every invoice since the previous supplier overbilled.",
    "is_active": True,
    "engagement_count": 2,
    "created_at": "2026-03-02T14:05:11-03:00",
    "updated_at": "2026-05-18T09:40:27-03:00",
}
CLIENT_REQUEST_EXAMPLE = {
    key: CLIENT_EXAMPLE[key]
    for key in ("name", "legal_name", "tax_id", "segment", "size", "country", "owner")
} | {"team_members": [9]}


@extend_schema_view(
    list=extend_schema(
        summary=_("List clients"),
        description=_(
            "Clients the caller may see, newest first; active ones unless `status` says otherwise."
        ),
        examples=[
            OpenApiExample("Client", value=CLIENT_EXAMPLE, response_only=True),
        ],
    ),
    retrieve=extend_schema(
        summary=_("Show a client"),
        examples=[OpenApiExample("Client", value=CLIENT_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary=_("Create a client"),
        description=_(
            "An account manager becomes the owner of the clients they create, whatever "
            "`owner` says; directors and administrators must choose an active account manager."
        ),
        examples=[
            OpenApiExample("New client", value=CLIENT_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample("Created client", value=CLIENT_EXAMPLE, response_only=True),
        ],
    ),
    update=extend_schema(
        summary=_("Replace a client"),
        description=_("Only directors and administrators may change the owner."),
    ),
    partial_update=extend_schema(
        summary=_("Change a client"),
        description=_(
            "Only directors and administrators may change the owner. "
            "`is_active: true` restores an archived client."
        ),
        examples=[
            OpenApiExample(
                "Add a team member", value={"team_members": [9, 12, 15]}, request_only=True
            ),
            OpenApiExample("Changed client", value=CLIENT_EXAMPLE, response_only=True),
        ],
    ),
    destroy=extend_schema(
        summary=_("Archive a client"),
        description=_(
            "Does not delete: archives the client (`is_active` becomes false), keeping its "
            "engagements, history and audit trail. It leaves the default list but stays "
            "readable at its URL and under `status=archived`; `PATCH` with "
            "`is_active: true` restores it."
        ),
        responses={204: None},
    ),
)
class ClientViewSet(ScopedViewSet):
    """Clients the caller may see.

    Lists are ordered by "-id" only: CursorPagination orders the queryset itself and would
    discard ClientFilter's ``ordering``, so that parameter is not offered here (see
    ClientApiFilter). DELETE archives instead of deleting.
    """

    serializer_class = ClientSerializer
    filterset_class = ClientApiFilter

    def get_queryset(self) -> QuerySet[Client]:
        return client_list(user=self.request.user).prefetch_related("team_members")

    def perform_create(self, serializer: Any) -> None:
        fields = dict(serializer.validated_data)
        team_members = fields.pop("team_members", ())
        with service_errors_as_drf():
            client = client_create(by=self.user, team_members=team_members, **fields)
        # Read it back through the list query so the answer carries engagement_count.
        serializer.instance = self.get_queryset().get(pk=client.pk)

    def perform_update(self, serializer: Any) -> None:
        fields = dict(serializer.validated_data)
        team_members = fields.pop("team_members", None)
        with service_errors_as_drf():
            client = client_update(
                client=serializer.instance, by=self.user, team_members=team_members, **fields
            )
        # Read back as a detail GET reads it: with engagement_count, and the same ETag.
        serializer.instance = self.get_queryset().get(pk=client.pk)

    def perform_destroy(self, instance: Client) -> None:
        with service_errors_as_drf():
            client_archive(client=instance, by=self.user)


class ClientChildViewSet(ScopedViewSet):
    """Create, update and delete through the resource's three services.

    ``service_target`` is the keyword the update and delete services take the row by.
    """

    create_service: ClassVar[Callable[..., Model]]
    update_service: ClassVar[Callable[..., Model]]
    delete_service: ClassVar[Callable[..., None]]
    service_target: ClassVar[str]

    def perform_create(self, serializer: Any) -> None:
        with service_errors_as_drf():
            serializer.instance = type(self).create_service(
                by=self.user, **serializer.validated_data
            )

    def perform_update(self, serializer: Any) -> None:
        fields = dict(serializer.validated_data)
        # validate_client has refused a different client; the services do not take it.
        fields.pop("client", None)
        with service_errors_as_drf():
            serializer.instance = type(self).update_service(
                by=self.user, **{self.service_target: serializer.instance}, **fields
            )

    def perform_destroy(self, instance: Model) -> None:
        with service_errors_as_drf():
            type(self).delete_service(by=self.user, **{self.service_target: instance})


ENGAGEMENT_EXAMPLE = {
    "id": 310,
    "client": 42,
    "process_type": "collections",
    "description": "Early-stage collections for the card portfolio.",
    "start_date": "2026-04-01",
    "end_date": None,
    "phase": "transition",
    "phase_changed_at": "2026-04-01T10:00:00-03:00",
    "created_at": "2026-03-10T16:22:03-03:00",
    "updated_at": "2026-04-01T10:00:00-03:00",
}


@extend_schema_view(
    list=extend_schema(
        summary=_("List engagements"),
        examples=[OpenApiExample("Engagement", value=ENGAGEMENT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(summary=_("Show an engagement")),
    create=extend_schema(
        summary=_("Create an engagement"),
        examples=[
            OpenApiExample(
                "New engagement",
                value={
                    "client": 42,
                    "process_type": "collections",
                    "start_date": "2026-04-01",
                    "phase": "contracting",
                },
                request_only=True,
            ),
            OpenApiExample("Created engagement", value=ENGAGEMENT_EXAMPLE, response_only=True),
        ],
    ),
    update=extend_schema(summary=_("Replace an engagement")),
    partial_update=extend_schema(
        summary=_("Change an engagement"),
        description=_("A new `phase` is recorded in the engagement's phase history."),
        examples=[
            OpenApiExample("Move to operation", value={"phase": "operation"}, request_only=True),
            OpenApiExample(
                "Changed engagement",
                value=ENGAGEMENT_EXAMPLE | {"phase": "operation"},
                response_only=True,
            ),
        ],
    ),
    destroy=extend_schema(summary=_("Delete an engagement")),
)
class EngagementViewSet(ClientChildViewSet):
    """Engagements of the clients the caller may see."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter
    create_service = staticmethod(engagement_create)
    update_service = staticmethod(engagement_update)
    delete_service = staticmethod(engagement_delete)
    service_target = "engagement"

    def get_queryset(self) -> QuerySet[Engagement]:
        # engagement_update and engagement_delete name the client in the audit trail.
        return engagements_visible_to(self.request.user).select_related("client")


STAKEHOLDER_EXAMPLE = {
    "id": 77,
    "client": 42,
    "name": "Marina Couto",
    "role": "Head of Customer Operations",
    "email": "marina.couto@example.com",
    "phone": "+55 11 4000-0000",
    "influence": 5,
    "stance": "skeptic",
    "notes": "Wrote the penalty clause after the last supplier missed its SLAs.",
}


@extend_schema_view(
    list=extend_schema(
        summary=_("List stakeholders"),
        examples=[OpenApiExample("Stakeholder", value=STAKEHOLDER_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(summary=_("Show a stakeholder")),
    create=extend_schema(
        summary=_("Create a stakeholder"),
        examples=[
            OpenApiExample(
                "New stakeholder",
                value={k: v for k, v in STAKEHOLDER_EXAMPLE.items() if k != "id"},
                request_only=True,
            ),
            OpenApiExample("Created stakeholder", value=STAKEHOLDER_EXAMPLE, response_only=True),
        ],
    ),
    update=extend_schema(summary=_("Replace a stakeholder")),
    partial_update=extend_schema(summary=_("Change a stakeholder")),
    destroy=extend_schema(summary=_("Delete a stakeholder")),
)
class StakeholderViewSet(ClientChildViewSet):
    """Stakeholders of the clients the caller may see."""

    serializer_class = StakeholderSerializer
    filterset_class = StakeholderFilter
    create_service = staticmethod(stakeholder_create)
    update_service = staticmethod(stakeholder_update)
    delete_service = staticmethod(stakeholder_delete)
    service_target = "stakeholder"

    def get_queryset(self) -> QuerySet[Stakeholder]:
        return stakeholders_visible_to(self.request.user)


PAST_EXPERIENCE_EXAMPLE = {
    "id": 18,
    "client": 42,
    "supplier": "Contact Prime",
    "process_type": "collections",
    "started_on": "2021-02-01",
    "ended_on": "2024-01-31",
    "outcome": "failure",
    "went_wrong": ["money", "trust"],
    "severity": 4,
    "legacy": "both",
    "legacy_description": "Monthly invoice audit and a 30-day termination clause.",
    "notes": "",
}


@extend_schema_view(
    list=extend_schema(
        summary=_("List past experiences"),
        examples=[
            OpenApiExample("Past experience", value=PAST_EXPERIENCE_EXAMPLE, response_only=True)
        ],
    ),
    retrieve=extend_schema(summary=_("Show a past experience")),
    create=extend_schema(
        summary=_("Create a past experience"),
        examples=[
            OpenApiExample(
                "New past experience",
                value={k: v for k, v in PAST_EXPERIENCE_EXAMPLE.items() if k != "id"},
                request_only=True,
            ),
            OpenApiExample(
                "Created past experience", value=PAST_EXPERIENCE_EXAMPLE, response_only=True
            ),
        ],
    ),
    update=extend_schema(summary=_("Replace a past experience")),
    partial_update=extend_schema(summary=_("Change a past experience")),
    destroy=extend_schema(summary=_("Delete a past experience")),
)
class PastExperienceViewSet(ClientChildViewSet):
    """Past outsourcing experiences of the clients the caller may see."""

    serializer_class = PastExperienceSerializer
    filterset_class = PastExperienceFilter
    create_service = staticmethod(past_experience_create)
    update_service = staticmethod(past_experience_update)
    delete_service = staticmethod(past_experience_delete)
    service_target = "experience"

    def get_queryset(self) -> QuerySet[PastExperience]:
        return past_experiences_visible_to(self.request.user)


TIMELINE_ENTRY_EXAMPLE = {
    "id": 905,
    "client": 42,
    "engagement": 310,
    "kind": "position_taken",
    "relevance": "high",
    "occurred_on": "2026-05-12",
    "title": "We said the new script would hurt first-call resolution",
    "body": "Shared the pilot numbers with the operations head; agreed to a two-week test.",
    "author": 7,
    "created_at": "2026-05-12T18:31:45-03:00",
}


@extend_schema_view(
    list=extend_schema(
        summary=_("List timeline entries"),
        examples=[
            OpenApiExample("Timeline entry", value=TIMELINE_ENTRY_EXAMPLE, response_only=True)
        ],
    ),
    retrieve=extend_schema(summary=_("Show a timeline entry")),
    create=extend_schema(
        summary=_("Create a timeline entry"),
        description=_("The caller becomes the author."),
        examples=[
            OpenApiExample(
                "New timeline entry",
                value={
                    k: v
                    for k, v in TIMELINE_ENTRY_EXAMPLE.items()
                    if k not in {"id", "author", "created_at"}
                },
                request_only=True,
            ),
            OpenApiExample(
                "Created timeline entry", value=TIMELINE_ENTRY_EXAMPLE, response_only=True
            ),
        ],
    ),
    update=extend_schema(summary=_("Replace a timeline entry")),
    partial_update=extend_schema(summary=_("Change a timeline entry")),
    destroy=extend_schema(summary=_("Delete a timeline entry")),
)
class TimelineEntryViewSet(ClientChildViewSet):
    """Timeline entries of the clients the caller may see."""

    serializer_class = TimelineEntrySerializer
    filterset_class = TimelineEntryFilter
    create_service = staticmethod(timeline_entry_create)
    update_service = staticmethod(timeline_entry_update)
    delete_service = staticmethod(timeline_entry_delete)
    service_target = "entry"

    def get_queryset(self) -> QuerySet[TimelineEntry]:
        return timeline_entries_visible_to(self.request.user)
