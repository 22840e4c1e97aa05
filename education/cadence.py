"""The reassessment cadence: how long after an assessment its engagement is due to be
assessed again, by the assessment's maturity level.

The one definition. The scheduler (``ReassessmentSchedule``), the dashboards' standing —
its SQL included, generated here — and the demo seed all read it. Pure: no ORM.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Less mature clients are looked at again sooner: the education has more to change.
DAYS_BY_LEVEL = {1: 90, 2: 90, 3: 180, 4: 180, 5: 365}
# An assessment without a level (too little was answered to score maturity) tells us
# least of all: it is treated as level 1 and looked at again soonest.
UNLEVELLED_DAYS = DAYS_BY_LEVEL[1]


def days_for(level: int | None) -> int:
    """Days from an assessment at ``level`` (None: no level) to the next one."""
    return DAYS_BY_LEVEL.get(level, UNLEVELLED_DAYS) if level is not None else UNLEVELLED_DAYS


def due_at(submitted_at: datetime, level: int | None) -> datetime:
    """When an engagement assessed at ``submitted_at`` with ``level`` is due again."""
    return submitted_at + timedelta(days=days_for(level))


def days_sql(level_column: str) -> str:
    """``days_for`` as a SQL expression over ``level_column`` (NULL: no level)."""
    cases = " ".join(f"WHEN {int(level)} THEN {int(days)}" for level, days in DAYS_BY_LEVEL.items())
    return f"CASE {level_column} {cases} ELSE {int(UNLEVELLED_DAYS)} END"
