"""The pure schedule of an action: when it needs attention and what happens then.
No database: plain states in, events out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from education.schedule import (
    Event,
    Policy,
    State,
    advance,
    next_check,
    next_due_date,
    pending,
    start_of_day,
)

TZ = ZoneInfo("America/Sao_Paulo")
POLICY = Policy(reminder_days=2, escalate_after_days=3, tz=TZ)
DUE = date(2026, 12, 10)


def at(day: date, hour: int = 0) -> datetime:
    return start_of_day(day, TZ) + timedelta(hours=hour)


def test_a_new_action_is_first_looked_at_on_its_reminder_day():
    assert next_check(State(status="planned", due_date=DUE), POLICY) == at(DUE - timedelta(2))


def test_on_the_reminder_day_the_reminder_happens_once():
    state, events = advance(State(status="planned", due_date=DUE), at(date(2026, 12, 8), 9), POLICY)
    assert events == (Event.REMIND,)
    again, more = advance(state, at(date(2026, 12, 8), 10), POLICY)
    assert more == ()
    assert next_check(again, POLICY) == at(DUE + timedelta(1))


def test_the_day_after_the_due_date_it_is_overdue_and_escalates_after_the_grace():
    reminded = State(status="planned", due_date=DUE, reminded_at=at(date(2026, 12, 8)))
    state, events = advance(reminded, at(date(2026, 12, 11), 8), POLICY)
    assert events == (Event.OVERDUE,)
    assert state.overdue_at == at(date(2026, 12, 11))
    assert next_check(state, POLICY) == at(date(2026, 12, 14))
    state, events = advance(state, at(date(2026, 12, 14), 1), POLICY)
    assert events == (Event.ESCALATE,)
    assert next_check(state, POLICY) is None


def test_a_late_dispatcher_does_everything_due_in_order_and_skips_the_stale_reminder():
    state, events = advance(State(status="planned", due_date=DUE), at(date(2026, 12, 20)), POLICY)
    assert events == (Event.OVERDUE, Event.ESCALATE)
    assert state.reminded_at is None


def test_with_no_grace_the_escalation_follows_the_overdue_mark_in_the_same_pass():
    policy = Policy(reminder_days=2, escalate_after_days=0, tz=TZ)
    _state, events = advance(State(status="planned", due_date=DUE), at(date(2026, 12, 11)), policy)
    assert events == (Event.OVERDUE, Event.ESCALATE)


def test_done_actions_need_nothing_but_recurring_ones_still_spawn_on_their_due_date():
    assert next_check(State(status="done", due_date=DUE), POLICY) is None
    recurring = State(status="done", due_date=DUE, every_weeks=4)
    assert pending(recurring, POLICY) == {Event.SPAWN: at(DUE)}
    state, events = advance(recurring, at(DUE, 7), POLICY)
    assert events == (Event.SPAWN,)
    assert state.next_spawned
    assert next_due_date(recurring) == DUE + timedelta(weeks=4)


def test_a_closed_recurrence_spawns_nothing():
    state = State(status="planned", due_date=DUE, every_weeks=2, recurrence_closed=True)
    assert Event.SPAWN not in pending(state, POLICY)


states = st.builds(
    State,
    status=st.sampled_from(["planned", "done", "skipped"]),
    due_date=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    every_weeks=st.one_of(st.none(), st.integers(1, 52)),
    reminded_at=st.none(),
    overdue_at=st.none(),
    escalated_at=st.none(),
    next_spawned=st.booleans(),
    recurrence_closed=st.booleans(),
)
moments = st.datetimes(
    min_value=datetime(2019, 6, 1), max_value=datetime(2031, 6, 1), timezones=st.just(UTC)
)
policies = st.builds(
    Policy, reminder_days=st.integers(0, 30), escalate_after_days=st.integers(0, 30), tz=st.just(TZ)
)


@given(states, moments, policies)
def test_advancing_twice_at_the_same_moment_does_nothing_more(state, now, policy):
    after, _events = advance(state, now, policy)
    assert advance(after, now, policy) == (after, ())


@given(states, moments, policies)
def test_after_advancing_the_next_check_is_in_the_future_or_never(state, now, policy):
    after, _events = advance(state, now, policy)
    upcoming = next_check(after, policy)
    assert upcoming is None or upcoming > now


@given(states, moments, moments, policies)
def test_each_event_happens_at_most_once_however_often_the_dispatcher_runs(
    state, first, second, policy
):
    early, late = sorted([first, second])
    middle, events_a = advance(state, early, policy)
    _end, events_b = advance(middle, late, policy)
    together = events_a + events_b
    assert len(together) == len(set(together))


@given(states, moments, policies)
def test_closed_actions_are_never_reminded_overdue_or_escalated(state, now, policy):
    if state.status == "planned":
        return
    _after, events = advance(state, now, policy)
    assert set(events) <= {Event.SPAWN}
