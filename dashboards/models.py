"""What the dashboards read: a projection of where each engagement stands, kept in step
with the assessments, and summaries of the history, rebuilt every few minutes.

A portfolio dashboard asks the same questions many times over thousands of engagements;
answering them from the assessments and the education actions each time means scanning
hundreds of thousands of rows per figure. So:

- :class:`Standing` — one row per assessed engagement: its latest counted result, the one
  before, its dimension scores (a column per :class:`DimensionSlot`), and the client's
  and engagement's attributes the filters use. Written in the same transaction as the
  submit or review that changes it, and whenever the client or engagement is saved, so
  it is never stale (``dashboards.standings``).
- :class:`TrendCell`, :class:`EffortCell`, :class:`UpliftCell` — the monthly trend and the
  education figures, pre-aggregated by the filters' attributes; rebuilt together every
  ``DASHBOARD_REFRESH_SECONDS`` (five minutes by default) by Celery beat, and on demand
  with ``refresh_dashboards`` (``dashboards.summaries``). :class:`SummaryState` says
  when; the page shows it.

A test checks each against the rows it summarises.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clients.models import Phase, ProcessType, Segment


class FilterAttributes(models.Model):
    """The attributes every dashboard filter reads, copied from the client and engagement."""

    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices)
    client_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("account manager"),
    )
    process_type = models.CharField(
        _("process type"), max_length=30, choices=ProcessType.choices, blank=True
    )
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, blank=True)

    class Meta:
        abstract = True


class Standing(FilterAttributes):
    engagement = models.OneToOneField(
        "clients.Engagement",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="standing",
        verbose_name=_("engagement"),
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="standings",
        verbose_name=_("client"),
    )
    client_name = models.CharField(_("client name"), max_length=200)
    client_active = models.BooleanField(_("client active"))
    assessment = models.OneToOneField(
        "assessments.Assessment",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("latest assessment"),
    )
    questionnaire = models.ForeignKey(
        "assessments.Questionnaire",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("questionnaire"),
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    maturity_score = models.FloatField(_("maturity score"), null=True)
    maturity_level = models.PositiveSmallIntegerField(_("maturity level"), null=True)
    defensiveness_index = models.FloatField(_("defensiveness index"), null=True)
    quadrant = models.CharField(_("quadrant"), max_length=30, blank=True)
    previous_maturity_score = models.FloatField(_("previous maturity score"), null=True)
    previous_defensiveness_index = models.FloatField(_("previous defensiveness index"), null=True)
    reassess_due_at = models.DateTimeField(_("reassessment due"))
    # The latest dimension scores, one column per dimension slot (see DimensionSlot):
    # plain columns average several times faster than keys of a JSON document.
    d01 = models.FloatField(null=True)
    d02 = models.FloatField(null=True)
    d03 = models.FloatField(null=True)
    d04 = models.FloatField(null=True)
    d05 = models.FloatField(null=True)
    d06 = models.FloatField(null=True)
    d07 = models.FloatField(null=True)
    d08 = models.FloatField(null=True)
    d09 = models.FloatField(null=True)
    d10 = models.FloatField(null=True)
    d11 = models.FloatField(null=True)
    d12 = models.FloatField(null=True)
    d13 = models.FloatField(null=True)
    d14 = models.FloatField(null=True)
    d15 = models.FloatField(null=True)
    d16 = models.FloatField(null=True)
    # The perception gap (docs/client-voice.md §4): of the engagement's latest round with
    # respondents and a supplier's view, the client's mean minus ours per dimension, in
    # points, in the same slots (dashboards.gaps keeps these). Database defaults: the
    # submit's one-statement upsert does not name them.
    gap_round = models.ForeignKey(
        "voice.Round",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("round of the gap"),
    )
    gap_respondents = models.PositiveSmallIntegerField(_("respondents"), db_default=0)
    # The mean of the maturity dimensions' gaps (points), and whether any of them is a
    # level or more either way: what the dashboard's tile counts.
    gap_mean = models.FloatField(_("mean maturity gap"), null=True)
    gap_wide = models.BooleanField(_("a wide maturity gap"), db_default=False)
    g01 = models.FloatField(null=True)
    g02 = models.FloatField(null=True)
    g03 = models.FloatField(null=True)
    g04 = models.FloatField(null=True)
    g05 = models.FloatField(null=True)
    g06 = models.FloatField(null=True)
    g07 = models.FloatField(null=True)
    g08 = models.FloatField(null=True)
    g09 = models.FloatField(null=True)
    g10 = models.FloatField(null=True)
    g11 = models.FloatField(null=True)
    g12 = models.FloatField(null=True)
    g13 = models.FloatField(null=True)
    g14 = models.FloatField(null=True)
    g15 = models.FloatField(null=True)
    g16 = models.FloatField(null=True)

    class Meta:
        verbose_name = _("standing")
        verbose_name_plural = _("standings")
        indexes = [models.Index(fields=["submitted_at"], name="standing_submitted")]

    def __str__(self) -> str:
        return f"{self.engagement_id}: {self.maturity_score} / {self.defensiveness_index}"


SLOTS = 16


def slot_column(slot: int) -> str:
    return f"d{slot:02d}"


def gap_column(slot: int) -> str:
    return f"g{slot:02d}"


class DimensionSlot(models.Model):
    """Which :class:`Standing` column holds a questionnaire's dimension score: a code gets
    the questionnaire's next free slot when a version using it is published, and keeps it
    across versions. Codes beyond a questionnaire's sixteenth are not in the heatmap (and
    say so in the log)."""

    questionnaire = models.ForeignKey(
        "assessments.Questionnaire",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("questionnaire"),
        db_index=False,  # dimension_slot_code leads with it
    )
    code = models.SlugField(_("code"), max_length=60)
    slot = models.PositiveSmallIntegerField(_("slot"))

    class Meta:
        verbose_name = _("dimension slot")
        verbose_name_plural = _("dimension slots")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slot__gte=1, slot__lte=SLOTS), name="dimension_slot_range"
            ),
            models.UniqueConstraint(fields=["questionnaire", "code"], name="dimension_slot_code"),
            models.UniqueConstraint(fields=["questionnaire", "slot"], name="dimension_slot_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} → {slot_column(self.slot)}"


class SummaryState(models.Model):
    """When the summaries were last rebuilt (one row)."""

    refreshed_at = models.DateTimeField(_("refreshed at"))
    seconds = models.FloatField(_("seconds taken"))

    class Meta:
        verbose_name = _("summary state")
        verbose_name_plural = _("summary states")

    def __str__(self) -> str:
        return str(self.refreshed_at)


class CellGrain(models.Model):
    """Summaries come in two grains: ``fine`` cells carry all four filter attributes;
    coarse cells only segment and account manager (engagement type and phase empty), a
    tenth as many rows, read whenever neither engagement filter is set."""

    fine = models.BooleanField(_("fine"), default=True)

    class Meta:
        abstract = True


class TrendCell(FilterAttributes, CellGrain):
    """Counted assessments of active clients submitted in ``month``, summed."""

    SUMS = (
        "assessments",
        "maturity_sum",
        "maturity_n",
        "defensiveness_sum",
        "defensiveness_n",
    )

    month = models.DateField(_("month"))
    assessments = models.PositiveIntegerField(_("assessments"))
    maturity_sum = models.FloatField(default=0.0)
    maturity_n = models.PositiveIntegerField(default=0)
    defensiveness_sum = models.FloatField(default=0.0)
    defensiveness_n = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("trend cell")
        verbose_name_plural = _("trend cells")
        indexes = [models.Index(fields=["fine", "month"], name="trend_cell_month")]

    def __str__(self) -> str:
        return f"{self.month} {self.segment}"


PERIOD_ALL = "all"


class EffortCell(FilterAttributes, CellGrain):
    """Education actions of active clients due in ``period`` (a dashboard period preset,
    as of the rebuild), counted per action owner."""

    SUMS = ("done", "overdue", "open", "due")

    period = models.CharField(_("period"), max_length=5)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    done = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    due = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("effort cell")
        verbose_name_plural = _("effort cells")
        indexes = [models.Index(fields=["fine", "period"], name="effort_cell_period")]

    def __str__(self) -> str:
        return f"{self.period} {self.owner_id}"


class UpliftCell(FilterAttributes, CellGrain):
    """Measured education actions of active clients due in ``period``, summed per type."""

    SUMS = (
        "measured",
        "uplift_sum",
        "maturity_sum",
        "maturity_n",
        "defensiveness_sum",
        "defensiveness_n",
    )

    period = models.CharField(_("period"), max_length=5)
    action_type = models.CharField(_("type"), max_length=30)
    measured = models.PositiveIntegerField(default=0)
    uplift_sum = models.FloatField(default=0.0)
    maturity_sum = models.FloatField(default=0.0)
    maturity_n = models.PositiveIntegerField(default=0)
    defensiveness_sum = models.FloatField(default=0.0)
    defensiveness_n = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("uplift cell")
        verbose_name_plural = _("uplift cells")
        indexes = [models.Index(fields=["fine", "period"], name="uplift_cell_period")]

    def __str__(self) -> str:
        return f"{self.period} {self.action_type}"
