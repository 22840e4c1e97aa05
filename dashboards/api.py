"""``/api/v1/dashboard/portfolio/`` and ``/api/v1/dashboard/mine/``: the dashboards'
figures for integrations — the same function as the pages, the same filters, the same
numbers. The portfolio is for directors; ``mine`` for anyone, over their own clients."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import empty_values
from clients.models import Phase, ProcessType, Segment
from dashboards import selectors
from dashboards.filters import GROUPINGS, PERIODS, page_number
from dashboards.selectors import RISK_REASONS


class FiltersSerializer(serializers.Serializer):
    segment = serializers.CharField()
    process_type = serializers.CharField()
    phase = serializers.CharField()
    owner = serializers.IntegerField(allow_null=True)
    period = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    by = serializers.CharField()


class TilesSerializer(serializers.Serializer):
    active_clients = serializers.IntegerField()
    assessed = serializers.IntegerField(help_text="Engagements assessed in the period.")
    average_maturity = serializers.FloatField(allow_null=True)
    average_defensiveness = serializers.FloatField(allow_null=True)
    guarded_novices = serializers.IntegerField()
    guarded_share = serializers.FloatField(allow_null=True, help_text="Percent of assessed.")
    overdue_actions = serializers.IntegerField()
    heard = serializers.IntegerField(
        help_text="Engagements with a perception gap: their client answered a round."
    )
    average_gap = serializers.FloatField(
        allow_null=True, help_text="The mean of their maturity gaps, in levels."
    )
    wide_gaps = serializers.IntegerField(
        help_text="Of those, how many see a maturity dimension a level or more apart."
    )


class LevelSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    name = serializers.CharField()
    engagements = serializers.IntegerField()


class QuadrantSerializer(serializers.Serializer):
    quadrant = serializers.CharField()
    engagements = serializers.IntegerField()


class PointSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    name = serializers.CharField()
    process_type = serializers.CharField()
    maturity = serializers.FloatField()
    defensiveness = serializers.FloatField()
    quadrant = serializers.CharField()


class MonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    assessments = serializers.IntegerField()
    average_maturity = serializers.FloatField(allow_null=True)
    average_defensiveness = serializers.FloatField(allow_null=True)


class HeatCellSerializer(serializers.Serializer):
    group = serializers.CharField(help_text="A segment or an engagement type (see `by`).")
    dimension = serializers.CharField()
    kind = serializers.CharField()
    average = serializers.FloatField(allow_null=True)
    engagements = serializers.IntegerField()
    gap = serializers.FloatField(
        allow_null=True,
        help_text="The mean perception gap in levels (the client's view minus ours): "
        "positive when clients rate themselves higher.",
    )
    heard = serializers.IntegerField(help_text="Engagements with a gap on this dimension.")


class AtRiskItemSerializer(serializers.Serializer):
    engagement = serializers.IntegerField()
    client = serializers.IntegerField()
    name = serializers.CharField()
    process_type = serializers.CharField()
    owner = serializers.CharField()
    maturity_level = serializers.IntegerField(allow_null=True)
    maturity = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True)
    defensiveness = serializers.FloatField(allow_null=True)
    assessed_at = serializers.DateTimeField()
    reassessment_due = serializers.DateTimeField()
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=RISK_REASONS))


class AtRiskSerializer(serializers.Serializer):
    items = AtRiskItemSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()


class EffortSerializer(serializers.Serializer):
    owner = serializers.IntegerField()
    name = serializers.CharField()
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()
    open = serializers.IntegerField()
    due = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)


class EffortTotalsSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()
    open = serializers.IntegerField()
    due = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)


class UpliftSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    measured = serializers.IntegerField()
    average_uplift = serializers.FloatField(allow_null=True)
    average_maturity_change = serializers.FloatField(allow_null=True)
    average_defensiveness_change = serializers.FloatField(allow_null=True)


class DashboardSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    tiles = TilesSerializer()
    levels = LevelSerializer(many=True)
    quadrants = QuadrantSerializer(many=True)
    scatter = PointSerializer(many=True)
    trend = MonthSerializer(many=True)
    heatmap = HeatCellSerializer(many=True)
    at_risk = AtRiskSerializer()
    effort = EffortSerializer(many=True)
    effort_totals = EffortTotalsSerializer()
    uplift = UpliftSerializer(many=True)
    dimension_names = serializers.DictField(child=serializers.CharField())


def _choices(options: Any) -> str:
    return ", ".join(str(value) for value, _label in options)


FILTER_PARAMETERS = [
    OpenApiParameter("segment", str, description=f"One of: {_choices(Segment.choices)}."),
    OpenApiParameter(
        "process_type",
        str,
        description=f"Engagement type, one of: {_choices(ProcessType.choices)}.",
    ),
    OpenApiParameter("phase", str, description=f"One of: {_choices(Phase.choices)}."),
    OpenApiParameter("owner", int, description="An account manager's user id (portfolio only)."),
    OpenApiParameter("period", str, description=f"Months back, one of: {_choices(PERIODS)}."),
    OpenApiParameter("by", str, description=f"Heatmap rows: {_choices(GROUPINGS)}."),
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1},
        description="Page of the at-risk list (20 a page).",
    ),
]


class _DashboardView(APIView):
    mine = False

    @extend_schema(parameters=FILTER_PARAMETERS, responses=DashboardSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = request.query_params.copy()
        page = page_number(params.pop("page", ["1"])[-1])
        scope, form = selectors.scope_of(request.user, params, mine=self.mine)
        unknown = sorted(set(params) - set(form.fields))
        # The page's form reads an untouched (empty) field as "any"; the API refuses it.
        empty = empty_values(params, {name: type(f) for name, f in form.fields.items()})
        if not form.is_valid() or unknown or empty or page is None:
            errors: dict[str, Any] = {**form.errors, **empty}
            for name in unknown:
                errors[name] = [_("Not a filter of this dashboard.")]
            if page is None:
                errors["page"] = [_("A page number, 1 or more.")]
            raise ValidationError(errors)
        figures = selectors.portfolio(scope, at_risk_page=page)
        filters = scope.filters
        shown = {field.name: getattr(figures, field.name) for field in fields(figures)}
        shown["filters"] = {
            "segment": filters.segment,
            "process_type": filters.process_type,
            "phase": filters.phase,
            "owner": filters.owner,
            "period": filters.period,
            "since": filters.since(scope.moment),
            "by": filters.by,
        }
        return Response(DashboardSerializer(shown).data)


class PortfolioDashboardView(_DashboardView):
    """The portfolio's figures (directors): the same as the page for the same filters."""


@extend_schema_view(
    # The caller's own clients: no owner to choose (sending one is a 400).
    get=extend_schema(parameters=[OpenApiParameter("owner", int, exclude=True)])
)
class MyDashboardView(_DashboardView):
    """The figures of the caller's own clients."""

    mine = True
