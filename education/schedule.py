"""When an education action needs attention, and what happens then.

Pure: an action's state in, the events that are due and its next check time out. The
dispatcher stores ``next_check`` in the due index (``EducationAction.next_check_at``) and
calls :func:`advance` for every row whose time has come. Each event happens at most once
per due date, because applying it sets the flag that makes it no longer pending.

Times are the start of a local day: a reminder ``reminder_days`` before the due date, the
overdue mark the day after it, the escalation ``escalate_after_days`` after the overdue
mark, and a recurring action's next occurrence on its due date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

PLANNED = "planned"


class Event(StrEnum):
    REMIND = "remind"
    OVERDUE = "overdue"
    ESCALATE = "escalate"
    SPAWN = "spawn"


@dataclass(frozen=True)
class Policy:
    reminder_days: int
    escalate_after_days: int
    tz: tzinfo


@dataclass(frozen=True)
class State:
    status: str
    due_date: date
    every_weeks: int | None = None
    reminded_at: datetime | None = None
    overdue_at: datetime | None = None
    escalated_at: datetime | None = None
    next_spawned: bool = False
    recurrence_closed: bool = False


def start_of_day(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def pending(state: State, policy: Policy) -> dict[Event, datetime]:
    """Every event still to happen to the action, with the time it is due."""
    events: dict[Event, datetime] = {}
    if state.status == PLANNED:
        if state.overdue_at is None:
            overdue = start_of_day(state.due_date + timedelta(days=1), policy.tz)
            events[Event.OVERDUE] = overdue
            if state.reminded_at is None:
                remind = start_of_day(
                    state.due_date - timedelta(days=policy.reminder_days), policy.tz
                )
                events[Event.REMIND] = min(remind, overdue)
        elif state.escalated_at is None:
            events[Event.ESCALATE] = state.overdue_at + timedelta(days=policy.escalate_after_days)
    if state.every_weeks and not state.next_spawned and not state.recurrence_closed:
        events[Event.SPAWN] = start_of_day(state.due_date, policy.tz)
    return events


def next_check(state: State, policy: Policy) -> datetime | None:
    """When the dispatcher must look at the action again (None: never, unless it changes)."""
    times = pending(state, policy).values()
    return min(times) if times else None


def advance(state: State, now: datetime, policy: Policy) -> tuple[State, tuple[Event, ...]]:
    """Apply every event due at ``now``; returns the new state and what happened, in order.

    A reminder whose day has passed together with the due date is not sent: the overdue
    notice says more. An escalation due in the same pass as the overdue mark follows it.
    """
    happened: list[Event] = []
    while True:
        due = {event: at for event, at in pending(state, policy).items() if at <= now}
        if not due:
            return state, tuple(happened)
        if Event.OVERDUE in due:
            # Marked at the moment it became overdue, so the escalation grace period counts
            # from the due date and not from whenever the dispatcher happened to run.
            state = replace(state, overdue_at=due[Event.OVERDUE])
            happened.append(Event.OVERDUE)
        elif Event.REMIND in due:
            state = replace(state, reminded_at=now)
            happened.append(Event.REMIND)
        elif Event.ESCALATE in due:
            state = replace(state, escalated_at=now)
            happened.append(Event.ESCALATE)
        if Event.SPAWN in due:
            state = replace(state, next_spawned=True)
            happened.append(Event.SPAWN)


def next_due_date(state: State) -> date | None:
    """The due date of a recurring action's next occurrence."""
    if not state.every_weeks:
        return None
    return state.due_date + timedelta(weeks=state.every_weeks)
