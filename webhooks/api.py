"""REST API for webhooks (directors and administrators): endpoints, their secret (shown in
the answer that makes or rotates it, never again), test events, the delivery log and
replays, and the event types one may subscribe to.

Reads start from webhooks.selectors and every write goes through webhooks.services.
"""

from __future__ import annotations

from typing import Any, cast

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import DIRECTORS, has_role
from accounts.models import User
from api.idempotency import sealed
from api.serializers import service_errors_as_drf
from webhooks import services
from webhooks.events import EVENT_TYPES
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.selectors import attempts_of, endpoint_list


class EndpointSerializer(serializers.ModelSerializer):
    """A webhook endpoint. ``secret`` appears only in the answer to its creation (and to
    ``rotate-secret``)."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)),
        allow_empty=False,
        max_length=len(EVENT_TYPES),
        help_text=_("The event types sent to this endpoint."),
    )
    pending = serializers.IntegerField(read_only=True, default=0)
    gave_up = serializers.IntegerField(read_only=True, default=0)
    last_attempt_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Endpoint
        fields = [
            "id", "url", "description", "event_types", "is_active", "disabled_at",
            "disabled_reason", "consecutive_failures", "failing_since",
            "previous_secret_expires_at", "pending", "gave_up", "last_attempt_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "disabled_at", "disabled_reason", "consecutive_failures", "failing_since",
            "previous_secret_expires_at", "created_at", "updated_at",
        ]  # fmt: skip


class NewEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text=_("The signing secret (whsec_…): shown this once.")
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class AttemptSerializer(serializers.ModelSerializer):
    """One HTTP request of a delivery, as the log shows it."""

    delivery = serializers.IntegerField(source="delivery_id", read_only=True)
    event_id = serializers.CharField(source="delivery.event.webhook_id", read_only=True)
    event_type = serializers.CharField(source="delivery.event.type", read_only=True)
    delivery_state = serializers.CharField(source="delivery.state", read_only=True)

    class Meta:
        model = Attempt
        fields = [
            "id", "delivery", "event_id", "event_type", "delivery_state", "number",
            "started_at", "status_code", "latency_ms", "error", "response_excerpt",
        ]  # fmt: skip
        read_only_fields = fields


class ReplaySerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text=_("Every event of the endpoint's types since."))


EventTypeSerializer = inline_serializer(
    "EventType",
    {
        "name": serializers.CharField(),
        "version": serializers.IntegerField(),
        "label": serializers.CharField(),
        "fields": serializers.ListField(child=serializers.CharField()),
    },
    many=True,
)


_QUEUED = inline_serializer("Queued", {"queued": serializers.IntegerField()})
_SECRET = inline_serializer(
    "RotatedSecret",
    {"secret": serializers.CharField(), "previous_secret_expires_at": serializers.DateTimeField()},
)


class EndpointViewSet(viewsets.ModelViewSet):
    """Webhook endpoints: directors and administrators only (others get 403)."""

    permission_classes = [has_role(*DIRECTORS)]
    serializer_class = EndpointSerializer
    queryset = Endpoint.objects.none()

    @property
    def user(self) -> User:
        # The role permission has already refused anonymous callers.
        return cast(User, self.request.user)

    def get_queryset(self) -> Any:
        return endpoint_list()

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return NewEndpointSerializer
        if self.action == "deliveries":
            return AttemptSerializer
        return EndpointSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The answer shows the secret: a retry's copy of it is kept encrypted.
        return cast(Response, sealed(super().create(request, *args, **kwargs)))

    def perform_create(self, serializer: Any) -> None:
        with service_errors_as_drf():
            serializer.instance = services.endpoint_create(
                by=self.user, **serializer.validated_data
            )

    def perform_update(self, serializer: Any) -> None:
        with service_errors_as_drf():
            serializer.instance = services.endpoint_update(
                endpoint=serializer.instance, by=self.user, **serializer.validated_data
            )

    def perform_destroy(self, instance: Endpoint) -> None:
        services.endpoint_delete(endpoint=instance, by=self.user)

    @extend_schema(request=None, responses={200: _SECRET})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        """A new signing secret, shown in this answer only; the old one also signs until
        ``previous_secret_expires_at``."""
        endpoint = self.get_object()
        secret = services.endpoint_secret_rotate(endpoint=endpoint, by=self.user)
        answer = {
            "secret": secret,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        }
        return cast(Response, sealed(Response(answer)))

    @extend_schema(request=None, responses={202: _QUEUED, 400: OpenApiResponse(description="Off")})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Queue a ``webhook.test`` event to this endpoint alone."""
        with service_errors_as_drf():
            services.endpoint_test(endpoint=self.get_object(), by=self.user)
        return Response({"queued": 1}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ReplaySerializer, responses={202: _QUEUED})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Send again every event of the endpoint's types since a moment."""
        endpoint = self.get_object()
        form = ReplaySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        with service_errors_as_drf():
            count = services.endpoint_replay_since(
                endpoint=endpoint, since=form.validated_data["since"], by=self.user
            )
        return Response({"queued": count}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: AttemptSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The endpoint's delivery log: every attempt, newest first."""
        page = self.paginate_queryset(attempts_of(self.get_object()))
        return self.get_paginated_response(AttemptSerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: _QUEUED})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_pk>[0-9]+)/replay",
        url_name="delivery-replay",
    )
    def delivery_replay(
        self, request: Request, pk: str | None = None, delivery_pk: str | None = None
    ) -> Response:
        """Send one delivery again (the same ``webhook-id``)."""
        endpoint = self.get_object()
        delivery = get_object_or_404(Delivery, pk=delivery_pk, endpoint=endpoint)
        services.delivery_replay(delivery=delivery, by=self.user)
        return Response({"queued": 1}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: EventTypeSerializer})
    @action(detail=False, methods=["get"], url_path="event-types", pagination_class=None)
    def event_types(self, request: Request) -> Response:
        """The event types an endpoint may subscribe to, with the fields of their data."""
        return Response(
            [
                {"name": t.name, "version": t.version, "label": str(t.label),
                 "fields": list(t.fields)}
                for t in EVENT_TYPES.values()
            ]
        )  # fmt: skip
