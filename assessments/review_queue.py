"""The directors' review queue: submitted assessments waiting for a decision, filtered
and sorted as the director chose, and what comes next once one is decided.

The queue's state travels as its query string (``segment=banking&age=7``): the queue page
reads it, each result page opened from the queue carries it (``?queue=…``), and the
decision's redirect uses it to open the next assessment of the same queue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from assessments.models import Assessment, AssessmentStatus
from assessments.selectors import assessments_visible_to
from clients.models import Segment

# The queue's parameters (what a "queue" query string may hold): filters, then the order.
FILTERS = ("assessor", "segment", "age")
PARAMETERS = (*FILTERS, "ordering")
PAGE_SIZE = 25

AGES = (
    ("7", _("Waiting more than a week")),
    ("30", _("Waiting more than a month")),
)


class ReviewQueueFilter(django_filters.FilterSet):
    assessor = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True).order_by("first_name", "username"),
        label=_("Assessor"),
        empty_label=_("Anyone"),
    )
    segment = django_filters.ChoiceFilter(
        field_name="engagement__client__segment",
        choices=Segment.choices,
        label=_("Segment"),
        empty_label=_("Any"),
    )
    age = django_filters.ChoiceFilter(
        choices=AGES, method="filter_age", label=_("Waiting"), empty_label=_("Any time")
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("submitted_at", "submitted"),
            ("maturity_level", "level"),
            ("defensiveness_index", "defensiveness"),
        ),
        field_labels={
            "submitted_at": _("Submitted"),
            "maturity_level": _("Maturity level"),
            "defensiveness_index": _("Defensiveness"),
        },
        label=_("Sort by"),
        empty_label=_("Oldest first"),
    )

    class Meta:
        model = Assessment
        fields = ["assessor", "segment"]

    def filter_age(self, queryset: QuerySet[Assessment], name: str, value: str) -> Any:
        return queryset.filter(submitted_at__lt=timezone.now() - timedelta(days=int(value)))


class Queue:
    """One director's queue under the given parameters."""

    def __init__(self, user: User, params: QueryDict) -> None:
        self.params = params
        self.filter = ReviewQueueFilter(
            params,
            queryset=assessments_visible_to(user)
            .filter(status=AssessmentStatus.SUBMITTED)
            .select_related("engagement__client", "assessor"),
        )
        chosen = self.filter.qs
        # Ties (and the default) oldest first: who waited longest is decided first.
        self.items = chosen.order_by(*chosen.query.order_by, "submitted_at", "id")

    @classmethod
    def from_string(cls, user: User, query: str) -> Queue:
        return cls(user, QueryDict(query))

    @property
    def query(self) -> str:
        """The parameters in force, as the query string that rebuilds this queue."""
        return urlencode([(k, self.params[k]) for k in PARAMETERS if self.params.get(k)])

    @property
    def filtered(self) -> bool:
        """Whether a filter narrows the queue (an order alone does not)."""
        return any(self.params.get(k) for k in FILTERS)

    @property
    def url(self) -> str:
        """The queue page showing this queue."""
        page = reverse("assessments:review_queue")
        return f"{page}?{self.query}" if self.query else page

    def position(self, assessment: Assessment) -> tuple[int | None, int, int | None]:
        """(this one's place from 1, the queue's length, the next one's id): the next is
        the one after it, or the first when it was the last; None when nothing is left."""
        ids = list(self.items.values_list("id", flat=True))
        if assessment.pk not in ids:
            return None, len(ids), ids[0] if ids else None
        index = ids.index(assessment.pk)
        rest = ids[index + 1 :] + ids[:index]
        return index + 1, len(ids), rest[0] if rest else None
