"""REST API for the client's voice (docs/client-voice.md §7): rounds, the invitations of
the client's stakeholders and their responses (read), the supplier's raters and the
reconciliation of their sheets, and the perception gap of a round.

Everything is scoped like the client page: whoever may see an engagement's client sees
and manages its rounds; anything else answers 404. Reads start from voice.selectors and
voice.reconciliation, writes go through voice.services and voice.reconciliation.
A link's secret is never returned: it reaches the stakeholder by e-mail only.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from api.mixins import FiltersOnList
from api.serializers import service_errors_as_drf
from assessments import question_types
from assessments.i18n import localized
from assessments.models import AssessmentStatus, Question, QuestionnaireVersion
from clients.models import Stakeholder
from clients.selectors import engagements_visible_to
from clients.serializers import VisibleEngagementField
from voice import reconciliation, services
from voice.models import ClientAnswer, Invitation, Rater, Round
from voice.selectors import round_gaps, versions_asking_the_client


def _user(request: Request) -> User:
    # IsAuthenticated (the default permission) has already refused anonymous callers.
    return cast(User, request.user)


def rounds_visible_to(user: User | None) -> QuerySet[Round]:
    return Round.objects.filter(engagement__in=engagements_visible_to(user))


# --- Rounds --------------------------------------------------------------------------------


class RoundFilter(django_filters.FilterSet):
    engagement = django_filters.NumberFilter(field_name="engagement_id")
    client = django_filters.NumberFilter(field_name="engagement__client_id")
    # A choice, not a BooleanFilter: that one reads any other word as "no filter".
    open = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_open",
        label=_("`true`: open rounds only; `false`: closed ones."),
    )

    class Meta:
        model = Round
        fields = ["engagement", "client", "open"]

    def filter_open(self, queryset: QuerySet[Round], name: str, value: str) -> QuerySet[Round]:
        return queryset.filter(closed_at__isnull=value == "true")


class VersionAskingTheClientField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[QuestionnaireVersion]:
        return QuestionnaireVersion.objects.filter(
            pk__in=[v.pk for v in versions_asking_the_client()]
        )


class RoundSerializer(serializers.ModelSerializer):
    engagement = VisibleEngagementField(help_text=_("The engagement the round is about."))
    version = VersionAskingTheClientField(
        required=False,
        help_text=_(
            "A published questionnaire version that asks the client something; by default "
            "the default questionnaire's current one."
        ),
    )
    client = serializers.IntegerField(source="engagement.client_id", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    invited = serializers.IntegerField(read_only=True, default=0)
    responded = serializers.IntegerField(
        read_only=True, default=0, help_text=_("Respondents who answered at least one question.")
    )
    finished = serializers.IntegerField(
        read_only=True, default=0, help_text=_("Respondents who said they were done.")
    )
    raters = serializers.IntegerField(source="rater_count", read_only=True, default=0)

    class Meta:
        model = Round
        fields = [
            "id", "engagement", "client", "version", "opened_by", "opened_at", "closes_on",
            "closed_at", "is_open", "reconciled", "invited", "responded", "finished", "raters",
        ]  # fmt: skip
        read_only_fields = ["opened_by", "opened_at", "closed_at", "reconciled"]


class GapSerializer(serializers.Serializer):
    dimension = serializers.CharField(source="code")
    name = serializers.CharField()
    kind = serializers.CharField(help_text=_("`maturity`, or a way of working asked neutrally."))
    client_level = serializers.FloatField(
        allow_null=True, help_text=_("The respondents' mean, in levels (1–5).")
    )
    spread_levels = serializers.FloatField(
        allow_null=True, help_text=_("Their population standard deviation, in levels.")
    )
    respondents = serializers.IntegerField(source="gap.respondents")
    supplier_level = serializers.FloatField(allow_null=True)
    gap_levels = serializers.FloatField(
        source="levels",
        allow_null=True,
        help_text=_(
            "Client minus supplier, in levels: positive when the client rates itself higher."
        ),
    )
    wide = serializers.BooleanField(help_text=_("A gap of a level or more either way."))


class RoundGapsSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    supplier_assessment = serializers.IntegerField(
        allow_null=True, help_text=_("Whose answers are the supplier's view.")
    )
    respondents = serializers.IntegerField()
    dimensions = GapSerializer(many=True)


class FiguresSerializer(serializers.Serializer):
    within_one = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True)
    questions = serializers.IntegerField()
    pairs = serializers.IntegerField()


class DimensionFiguresSerializer(FiguresSerializer):
    dimension = serializers.CharField()


class RatingSerializer(serializers.Serializer):
    rater = serializers.IntegerField()
    value = serializers.JSONField(allow_null=True)
    not_applicable = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    level = serializers.FloatField(allow_null=True)


class AgreedSerializer(serializers.Serializer):
    value = serializers.JSONField(allow_null=True)
    not_applicable = serializers.BooleanField()


class DecisionOutSerializer(AgreedSerializer):
    """A recorded decision (voice.models.Decision)."""

    reason = serializers.CharField()
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField()


class LineSerializer(serializers.Serializer):
    question = serializers.CharField()
    far_apart = serializers.BooleanField(
        help_text=_("Two raters are more than one level apart: an agreed answer is needed.")
    )
    ratings = RatingSerializer(many=True)
    proposal = AgreedSerializer(allow_null=True, help_text=_("The median answer."))
    decision = DecisionOutSerializer(allow_null=True)


class ReconciliationSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    reconciled = serializers.IntegerField(allow_null=True)
    ready = serializers.BooleanField(help_text=_("Whether `reconcile` would succeed now."))
    raters = serializers.IntegerField()
    handed_in = serializers.IntegerField()
    agreement = FiguresSerializer()
    by_dimension = DimensionFiguresSerializer(many=True)
    questions = LineSerializer(many=True)


class DecisionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=64, help_text=_("The question's code."))
    value = serializers.JSONField(required=False, allow_null=True)
    not_applicable = serializers.BooleanField(default=False)
    reason = serializers.CharField(max_length=2000, help_text=_("Why this is the agreed answer."))


def _figures(figures: Any) -> dict[str, Any]:
    return {
        "within_one": figures.within_one,
        "kappa": figures.kappa,
        "questions": figures.questions,
        "pairs": figures.pairs,
    }


def _agreed(agreed: tuple[Any, bool] | None) -> dict[str, Any] | None:
    return None if agreed is None else {"value": agreed[0], "not_applicable": agreed[1]}


@extend_schema_view(
    list=extend_schema(
        summary=_("List rounds"),
        description=_(
            "Rounds of the client's view on the engagements the caller may see, newest "
            "first. Filters: `engagement`, `client`, `open` (true or false)."
        ),
    ),
    retrieve=extend_schema(summary=_("Show a round")),
    create=extend_schema(
        summary=_("Open a round"),
        description=_(
            "One round is open per engagement at a time; `closes_on` must be after today. "
            "Then invite the client's stakeholders (`POST /api/v1/invitations/`)."
        ),
    ),
)
class RoundViewSet(
    FiltersOnList,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RoundSerializer
    filterset_class = RoundFilter

    def get_queryset(self) -> QuerySet[Round]:
        return (
            rounds_visible_to(_user(self.request))
            .select_related("engagement", "version")
            .annotate(
                invited=Count("invitations", distinct=True),
                responded=Count(
                    "invitations", filter=Q(invitations__answers__isnull=False), distinct=True
                ),
                finished=Count(
                    "invitations",
                    filter=Q(invitations__finished_at__isnull=False),
                    distinct=True,
                ),
                rater_count=Count("raters", distinct=True),
            )
        )

    def perform_create(self, serializer: Any) -> None:
        with service_errors_as_drf():
            opened = services.round_open(by=_user(self.request), **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=opened.pk)

    def _round(self) -> Round:
        return cast(Round, self.get_object())

    @extend_schema(request=None, responses={200: RoundSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the round: its links stop working; what was answered stays."""
        closed = services.round_close(round=self._round(), by=_user(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=closed.pk)).data)

    @extend_schema(responses={200: RoundGapsSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def gaps(self, request: Request, pk: str | None = None) -> Response:
        """The perception gap of each dimension the round asks the client about: the
        client's respondents (mean, spread, count) beside the supplier's view, in levels.
        Maturity dimensions first. No respondent or no supplier view: no gap (null)."""
        round = self._round()
        found = round_gaps(round)
        rows = [
            {
                "code": row.code,
                "name": localized(row.name),
                "kind": row.kind,
                "client_level": row.client_level,
                "spread_levels": row.spread_levels,
                "gap": row.gap,
                "supplier_level": row.supplier_level,
                "levels": row.levels,
                "wide": row.wide,
            }
            for row in [*found.maturity, *found.practices]
        ]
        assessment = found.supplier_assessment
        return Response(
            RoundGapsSerializer(
                {
                    "round": round.pk,
                    "supplier_assessment": assessment.pk if assessment else None,
                    "respondents": found.respondents,
                    "dimensions": rows,
                }
            ).data
        )

    @extend_schema(responses={200: ReconciliationSerializer})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def reconciliation(self, request: Request, pk: str | None = None) -> Response:
        """The handed-in sheets side by side: each question's ratings with their notes,
        whether its raters are far apart, the median proposal and the agreed answer, and
        the raters' agreement for the round and per dimension. A rater gets 403 until
        their own sheet is handed in."""
        round = self._round()
        if not reconciliation.may_see_sheets(round, _user(request)):
            self.permission_denied(
                request, message=str(_("Hand in your own sheet first: then you see the others'."))
            )
        found = reconciliation.reconciliation_of(round)
        data = {
            "round": round.pk,
            "reconciled": round.reconciled_id,
            "ready": found.ready,
            "raters": len(found.raters),
            "handed_in": len(found.handed_in),
            "agreement": _figures(found.agreement),
            "by_dimension": [
                {"dimension": dimension.code, **_figures(figures)}
                for dimension, figures in found.by_dimension
            ],
            "questions": [
                {
                    "question": line.question.code,
                    "far_apart": line.far_apart,
                    "ratings": [
                        {
                            "rater": rating.rater.pk,
                            "value": rating.value,
                            "not_applicable": rating.not_applicable,
                            "note": rating.note,
                            "level": rating.level,
                        }
                        for rating in line.ratings
                    ],
                    "proposal": _agreed(line.proposal),
                    "decision": line.decision,
                }
                for line in found.lines
            ],
        }
        return Response(ReconciliationSerializer(data).data)

    @extend_schema(request=DecisionSerializer, responses={200: DecisionOutSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        """Record the agreed answer of a question, and why (the round's owner or a
        director); recording it again replaces it."""
        round = self._round()
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        question = Question.objects.filter(
            dimension__version_id=round.version_id, code=data["question"]
        ).first()
        if question is None:
            raise serializers.ValidationError(
                {"question": [_("Not a question of this round.")]}, code="invalid"
            )
        value = data.get("value")
        if isinstance(value, str) and value.strip():
            value = question_types.get(question.type).parse(value.strip())
        with service_errors_as_drf():
            decision = reconciliation.decision_record(
                round=round,
                question=question,
                value=value,
                not_applicable=data["not_applicable"],
                reason=data["reason"],
                by=_user(request),
            )
        return Response(DecisionOutSerializer(decision).data)

    @extend_schema(request=None, responses={201: RoundSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reconcile(self, request: Request, pk: str | None = None) -> Response:
        """Write the agreed answers as the round's reconciled assessment (submitted:
        scored, reviewed, planned on and trended). Refused (400) until two sheets are
        handed in and every question the raters are far apart on has an agreed answer."""
        round = self._round()
        with service_errors_as_drf():
            reconciliation.round_reconcile(round=round, by=_user(request))
        return Response(
            self.get_serializer(self.get_queryset().get(pk=round.pk)).data,
            status=status.HTTP_201_CREATED,
        )


# --- Invitations and responses ---------------------------------------------------------------


class InvitationFilter(django_filters.FilterSet):
    round = django_filters.NumberFilter(field_name="round_id")
    engagement = django_filters.NumberFilter(field_name="round__engagement_id")
    stakeholder = django_filters.NumberFilter(field_name="stakeholder_id")

    class Meta:
        model = Invitation
        fields = ["round", "engagement", "stakeholder"]


class VisibleStakeholderField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[Stakeholder]:
        request = self.context.get("request")
        return Stakeholder.objects.filter(
            client__engagements__in=engagements_visible_to(getattr(request, "user", None))
        ).distinct()


class VisibleRoundField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[Round]:
        request = self.context.get("request")
        return rounds_visible_to(getattr(request, "user", None)).select_related("engagement")


def invitation_state(invitation: Invitation) -> str:
    if invitation.finished_at is not None:
        return "finished"
    if invitation.revoked_at is not None:
        return "revoked"
    if not invitation.round.is_open or invitation.expires_at <= timezone.now():
        return "closed"
    return "answering" if getattr(invitation, "answered", 0) else "waiting"


class InvitationSerializer(serializers.ModelSerializer):
    round = VisibleRoundField(help_text=_("An open round."))
    stakeholder = VisibleStakeholderField(
        help_text=_("One of the engagement's client's stakeholders, with an e-mail.")
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, help_text=_("The language of the e-mail and of the page.")
    )
    answered = serializers.IntegerField(read_only=True, default=0)
    state = serializers.SerializerMethodField(
        help_text=_("`waiting`, `answering`, `finished`, `revoked` or `closed`.")
    )

    class Meta:
        model = Invitation
        fields = [
            "id", "round", "stakeholder", "language", "invited_by", "created_at",
            "expires_at", "reminded_at", "revoked_at", "finished_at", "answered", "state",
        ]  # fmt: skip
        read_only_fields = [
            "invited_by", "created_at", "expires_at", "reminded_at", "revoked_at", "finished_at",
        ]  # fmt: skip

    def get_state(self, obj: Invitation) -> str:
        return invitation_state(obj)


class ResendSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


def invitations_visible_to(user: User) -> QuerySet[Invitation]:
    return Invitation.objects.filter(round__in=rounds_visible_to(user)).select_related("round")


@extend_schema_view(
    list=extend_schema(
        summary=_("List invitations"),
        description=_(
            "Who was invited to answer a round, and how far they got, on the engagements "
            "the caller may see. Filters: `round`, `engagement`, `stakeholder`."
        ),
    ),
    retrieve=extend_schema(summary=_("Show an invitation")),
    create=extend_schema(
        summary=_("Invite a stakeholder"),
        description=_(
            "E-mails the stakeholder a personal link to the round, in `language`. The link "
            "is never returned by the API."
        ),
    ),
)
class InvitationViewSet(
    FiltersOnList,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter

    def get_queryset(self) -> QuerySet[Invitation]:
        return invitations_visible_to(_user(self.request)).annotate(answered=Count("answers"))

    def perform_create(self, serializer: Any) -> None:
        with service_errors_as_drf():
            invitation, _secret = services.invitation_create(
                by=_user(self.request), **serializer.validated_data
            )
        serializer.instance = self.get_queryset().get(pk=invitation.pk)

    def _respond(self, invitation: Invitation) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=invitation.pk)).data)

    @extend_schema(request=ResendSerializer, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """E-mail a new link (the old one stops working), in `language` if given; a
        revoked invitation is restored."""
        invitation = self.get_object()
        form = ResendSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        with service_errors_as_drf():
            services.invitation_resend(
                invitation=invitation,
                by=_user(request),
                language=form.validated_data.get("language"),
            )
        return self._respond(invitation)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """The link stops working at once; the answers given stay."""
        invitation = services.invitation_revoke(invitation=self.get_object(), by=_user(request))
        return self._respond(invitation)


class ClientAnswerSerializer(serializers.ModelSerializer):
    question = serializers.CharField(source="question.code")
    level = serializers.IntegerField(
        source="value", allow_null=True, help_text=_("1–5; null: not sure.")
    )

    class Meta:
        model = ClientAnswer
        fields = ["question", "level", "updated_at"]


class ClientResponseSerializer(serializers.ModelSerializer):
    invitation = serializers.IntegerField(source="pk")
    engagement = serializers.IntegerField(source="round.engagement_id")
    answers = ClientAnswerSerializer(many=True)

    class Meta:
        model = Invitation
        fields = [
            "invitation", "round", "engagement", "stakeholder", "language", "finished_at",
            "answers",
        ]  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary=_("List client responses"),
        description=_(
            "What the client's respondents answered: one entry per invitation with at "
            "least one answer, on the engagements the caller may see. Filters: `round`, "
            "`engagement`, `stakeholder`."
        ),
    ),
    retrieve=extend_schema(summary=_("Show a client response (by invitation)")),
)
class ClientResponseViewSet(FiltersOnList, viewsets.ReadOnlyModelViewSet):
    serializer_class = ClientResponseSerializer
    filterset_class = InvitationFilter

    def get_queryset(self) -> QuerySet[Invitation]:
        return (
            invitations_visible_to(_user(self.request))
            .filter(answers__isnull=False)
            .distinct()
            .prefetch_related(
                Prefetch(
                    "answers",
                    queryset=ClientAnswer.objects.select_related("question").only(
                        "invitation_id", "value", "updated_at", "question__code"
                    ),
                )
            )
        )


# --- Raters --------------------------------------------------------------------------------


class RaterFilter(django_filters.FilterSet):
    round = django_filters.NumberFilter(field_name="round_id")

    class Meta:
        model = Rater
        fields = ["round"]


class RaterSerializer(serializers.ModelSerializer):
    round = VisibleRoundField(help_text=_("An open round not reconciled yet."))
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        help_text=_("Someone who may see the engagement's client."),
    )
    handed_in = serializers.SerializerMethodField()

    class Meta:
        model = Rater
        fields = ["id", "round", "user", "sheet", "handed_in", "added_by", "added_at"]
        read_only_fields = ["sheet", "added_by", "added_at"]

    def get_handed_in(self, obj: Rater) -> bool:
        return obj.sheet.status == AssessmentStatus.HANDED_IN


@extend_schema_view(
    list=extend_schema(
        summary=_("List raters"),
        description=_(
            "The supplier's people rating a round, each on a sheet of their own (an "
            "assessment only its rater may open). Filter: `round`."
        ),
    ),
    retrieve=extend_schema(summary=_("Show a rater")),
    create=extend_schema(
        summary=_("Add a rater to a round"),
        description=_(
            "The round's owner or a director asks a colleague to rate it; they are notified "
            "and get a sheet."
        ),
    ),
    destroy=extend_schema(
        summary=_("Take a rater off a round"),
        description=_("With their sheet; refused once the sheet is handed in."),
    ),
)
class RaterViewSet(
    FiltersOnList,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RaterSerializer
    filterset_class = RaterFilter

    def get_queryset(self) -> QuerySet[Rater]:
        return Rater.objects.filter(
            round__in=rounds_visible_to(_user(self.request))
        ).select_related("round__engagement", "sheet")

    def perform_create(self, serializer: Any) -> None:
        with service_errors_as_drf():
            serializer.instance = reconciliation.rater_add(
                by=_user(self.request), **serializer.validated_data
            )

    def perform_destroy(self, instance: Rater) -> None:
        with service_errors_as_drf():
            reconciliation.rater_remove(rater=instance, by=_user(self.request))
