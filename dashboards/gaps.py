"""The perception gap on the dashboards (docs/client-voice.md §4): each assessed
engagement's :class:`~dashboards.models.Standing` carries the gap of its latest round that
has respondents and a supplier's view — per dimension in the standing's slots, the mean
of its maturity dimensions, and whether any of those is a level or more wide — so the
tile and the segment × dimension heatmap are a few more aggregates over the standings
the dashboard already reads, not another query.

Kept by :func:`gaps_refresh`: for one engagement when one of its rounds changes in a way
the gap sees (a respondent says they are done, the round is reconciled or closed), and
for every engagement with a round at each rebuild of the summaries (so answers still
being typed, and a supplier's assessment submitted during a round, reach it within
``DASHBOARD_REFRESH_SECONDS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from math import fsum
from typing import Any

from django.db.models import F, Q

from dashboards.models import SLOTS, Standing, gap_column
from dashboards.slots import slot_maps
from voice.models import Round
from voice.selectors import RoundGaps, latest_heard

GAP_FIELDS = (
    "gap_round",
    "gap_respondents",
    "gap_mean",
    "gap_wide",
    *(gap_column(slot) for slot in range(1, SLOTS + 1)),
)
EMPTY: dict[str, Any] = {
    "gap_round": None,
    "gap_respondents": 0,
    "gap_mean": None,
    "gap_wide": False,
    **{gap_column(slot): None for slot in range(1, SLOTS + 1)},
}


def gap_values(found: RoundGaps, round: Round, slots: dict[str, int]) -> dict[str, Any]:
    """A standing's gap fields from its round's gaps (``slots``: its questionnaire's)."""
    values = dict(EMPTY, gap_round=round, gap_respondents=found.respondents)
    maturity = []
    for row in found.rows:
        if row.gap.gap is None:
            continue
        if row.code in slots:
            values[gap_column(slots[row.code])] = row.gap.gap
        if row.kind == "maturity":
            maturity.append(row)
    if maturity:
        values["gap_mean"] = fsum(row.gap.gap or 0.0 for row in maturity) / len(maturity)
        values["gap_wide"] = any(row.wide for row in maturity)
    return values


def gaps_refresh(engagement_ids: Iterable[int] | None = None) -> int:
    """Write the gap of each engagement's latest round with respondents and a supplier's
    view into its standing (of ``engagement_ids``, or of every engagement with a round),
    and clear it where there is none any more. Only rounds on the standing's own
    questionnaire count: its slots are that questionnaire's. Returns how many standings
    have a gap. A constant number of queries, whatever the number of engagements."""
    ids = None if engagement_ids is None else list(engagement_ids)
    standings = Standing.objects.all() if ids is None else Standing.objects.filter(pk__in=ids)
    rounds = Round.objects.filter(
        version__questionnaire_id=F("engagement__standing__questionnaire_id")
    )
    if ids is not None:
        rounds = rounds.filter(engagement_id__in=ids)
    slots = slot_maps()
    chosen = {
        engagement_id: gap_values(gaps, round, slots.get(round.version.questionnaire_id, {}))
        for engagement_id, (round, gaps) in latest_heard(rounds).items()
    }
    rows = [Standing(engagement_id=pk, **values) for pk, values in chosen.items()]
    Standing.objects.bulk_update(rows, GAP_FIELDS, batch_size=1000)
    stale = standings.filter(~Q(engagement_id__in=list(chosen)), gap_round__isnull=False)
    stale.update(**EMPTY)
    return len(chosen)
