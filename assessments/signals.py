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


# What the CTE named ``{assessment}`` in a rider's SQL returns: the submitted assessment's
# row as the statement writes it (which the statement's own snapshot does not show).
RIDER_COLUMNS = (
    "id",
    "engagement_id",
    "version_id",
    "status",
    "submitted_at",
    "maturity_score",
    "maturity_level",
    "defensiveness_index",
    "quadrant",
)


@dataclass(frozen=True)
class Rider:
    """A receiver's write that a first submit's statement, and an import's, carries on
    PostgreSQL, instead of the receiver sending a statement of its own after it: one round
    trip fewer on every submit. ``sql`` is a data-modifying CTE's body; it names the CTE
    that returns the assessment's row (RIDER_COLUMNS) as ``{assessment}`` and the one that
    returns its dimension rows (``assessment_id, code, score``) as ``{dimensions}`` — the
    statement's snapshot shows neither — and returns one row of one value (handed to the
    receiver as ``ridden[name]``). ``params`` gives its parameters for the assessment
    being submitted (an import's has no id yet), in their order in ``sql``.

    ``after_the_lock``: it reads rows that a concurrent writer of the engagement may
    change, so it rides only in a statement that starts after the engagement is held (a
    first submit's, locked by its first statement), not in an import's, whose own
    statement takes the lock: its snapshot would predate a writer it waited for.

    Only a first submit and an import ride; a resubmission, another database or a
    receiver's other callers make the write themselves, so a rider's app keeps both
    forms, written from one description of the row."""

    name: str  # a SQL name, unique among riders: its CTE's
    sql: str
    params: Callable[[Assessment], list[Any]]
    after_the_lock: bool = False

    def cte(self, assessment: str, dimensions: str) -> str:
        """``name AS (…)`` over the CTEs ``assessment`` and ``dimensions``."""
        sql = self.sql.replace("{assessment}", assessment).replace("{dimensions}", dimensions)
        return f"{self.name} AS ({sql})"

    def value(self) -> str:
        """What a statement carrying it selects to hand its value on."""
        return f"(SELECT * FROM {self.name})"


_riders: dict[str, Rider] = {}


def ride_on_submit(rider: Rider) -> None:
    """Register ``rider`` (an app's ready(), beside its receiver's connect); registering
    the same name again replaces it."""
    _riders[rider.name] = rider


def submit_riders(*, locked: bool = True) -> tuple[Rider, ...]:
    """The registered riders, in their order of registration — without those that ride
    only after the lock, for a statement that takes it (``locked=False``: an import's).
    A statement built from them is cached against this tuple."""
    return tuple(rider for rider in _riders.values() if locked or not rider.after_the_lock)


def riders_sql(riders: Sequence[Rider], assessment: str, dimensions: str) -> tuple[str, str]:
    """What a statement carrying ``riders`` adds: their CTEs over its CTEs ``assessment``
    and ``dimensions`` (each after a comma, to follow its own), and the values its final
    SELECT appends to hand theirs on (riders_ridden reads them)."""
    ctes = "".join(f", {rider.cte(assessment, dimensions)}" for rider in riders)
    return ctes, "".join(f", {rider.value()}" for rider in riders)


def riders_params(riders: Sequence[Rider], assessment: Assessment) -> list[Any]:
    """The riders' parameters, after the statement's own."""
    return [param for rider in riders for param in rider.params(assessment)]


def riders_ridden(riders: Sequence[Rider], values: Sequence[Any]) -> dict[str, Any]:
    """assessment_submitted's ``ridden``: each rider's value, by its name."""
    return {rider.name: value for rider, value in zip(riders, values, strict=True)}
