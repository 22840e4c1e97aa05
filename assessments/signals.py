"""Signals the assessments app sends, so later capabilities can react without the
assessment services knowing about them — and the riders a receiver of
``assessment_submitted`` may offer, so that its write travels in the submit's own
statement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from assessments.models import Assessment

# Sent by assessment_submit (and an import) inside its transaction, after the result is
# stored, with ``assessment`` and ``by``. Receivers write in the same transaction (an
# outbox), so what they record cannot be lost if the submit commits, nor kept if it rolls
# back. ``engagement_held`` (default False): the transaction already holds the
# assessment's engagement and client locked (lock_for_write's ``holding_engagement``).
# ``ridden`` (default empty): what each registered Rider's CTE returned, by its name, when
# the submit's statement carried it — that receiver's write is then already made.
assessment_submitted = Signal()

# Sent by assessment_review inside its transaction, after the new status is stored, with
# ``assessment``, ``by``, ``approved`` and ``engagement_held`` (as above).
assessment_reviewed = Signal()

# Sent by version_publish inside its transaction, with ``version`` (now published).
version_published = Signal()


@dataclass(frozen=True)
class Rider:
    """A receiver's write that a first submit's statement, and an import's, carries on
    PostgreSQL, instead of the receiver sending a statement of its own after it: one round
    trip fewer on every submit. ``sql`` is a data-modifying CTE's body, which names the
    CTE that returns the assessment's ``id`` as ``{assessment}`` and returns one row of
    one value (it is handed to the receiver as ``ridden[name]``); ``params`` gives its
    parameters for the assessment being submitted (an import's has no id yet), in their
    order in ``sql``.

    Only a first submit and an import ride; a resubmission, another database or a
    receiver's other callers make the write themselves, so a rider's app keeps both
    forms, written from one description of the row."""

    name: str  # a SQL name, unique among riders: its CTE's
    sql: str
    params: Callable[[Assessment], list[Any]]

    def cte(self, assessment: str) -> str:
        """``name AS (…)`` over the CTE ``assessment``."""
        return f"{self.name} AS ({self.sql.replace('{assessment}', assessment)})"

    def value(self) -> str:
        """What a statement carrying it selects to hand its value on."""
        return f"(SELECT * FROM {self.name})"


_riders: dict[str, Rider] = {}


def ride_on_submit(rider: Rider) -> None:
    """Register ``rider`` (an app's ready(), beside its receiver's connect); registering
    the same name again replaces it."""
    _riders[rider.name] = rider


def submit_riders() -> tuple[Rider, ...]:
    """The registered riders, in their order of registration: a statement built from
    them is cached against this tuple."""
    return tuple(_riders.values())


def riders_sql(riders: Sequence[Rider], assessment: str) -> tuple[str, str]:
    """What a statement carrying ``riders`` adds: their CTEs over its CTE ``assessment``
    (each after a comma, to follow its own), and the values its final SELECT appends to
    hand theirs on (riders_ridden reads them)."""
    ctes = "".join(f", {rider.cte(assessment)}" for rider in riders)
    return ctes, "".join(f", {rider.value()}" for rider in riders)


def riders_params(riders: Sequence[Rider], assessment: Assessment) -> list[Any]:
    """The riders' parameters, after the statement's own."""
    return [param for rider in riders for param in rider.params(assessment)]


def riders_ridden(riders: Sequence[Rider], values: Sequence[Any]) -> dict[str, Any]:
    """assessment_submitted's ``ridden``: each rider's value, by its name."""
    return {rider.name: value for rider, value in zip(riders, values, strict=True)}
