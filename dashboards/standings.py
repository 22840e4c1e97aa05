"""Keeping :class:`~dashboards.models.Standing` true: refreshed per engagement inside the
transaction that changes its assessments, updated when its client or engagement is saved,
rebuilt from scratch by ``refresh_dashboards --standings``.

An engagement's standing is its latest *counted* assessment — submitted or approved, with
a submission time — and the counted one before it. A returned assessment stops counting
until it is submitted again, so a return refreshes the standing too.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from assessments.models import Assessment, AssessmentStatus, DimensionResult
from assessments.signals import Rider
from clients.models import Client, Engagement
from clients.services import engagement_hold
from core.sql import one_line, prepared_cursor
from dashboards.gaps import EMPTY, gaps_refresh
from dashboards.models import SLOTS, Standing, slot_column
from dashboards.slots import slot_map, slot_maps
from education import cadence

COUNTED = (AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED)
# The perception gap's columns, kept by dashboards.gaps, not by a refresh.
GAP_COLUMNS = {"gap_round_id", *(name for name in EMPTY if name != "gap_round")}
FIELDS = (
    "id",
    "engagement_id",
    "submitted_at",
    "maturity_score",
    "maturity_level",
    "defensiveness_index",
    "quadrant",
    "version__questionnaire_id",
)
ENGAGEMENT_FIELDS = (
    "id",
    "client_id",
    "client__name",
    "process_type",
    "phase",
    "client__segment",
    "client__owner_id",
    "client__is_active",
)


# On PostgreSQL an engagement's standing is refreshed in one statement — a review or an
# import pays one round trip for it, not five, and a first submit none (its statement
# carries STANDING_RIDER). Other databases take the ORM path; tests run all three against
# the rebuild and compare.
SINGLE_STATEMENT_REFRESH = True


def standing_refresh(engagement_id: int, *, held: bool = False) -> None:
    """Recompute one engagement's standing from its assessments (idempotent).

    The engagement row is locked first, and its client's shared, so two refreshes of one
    engagement (two assessors' submits, a submit and a review) and a reassignment of its
    client take turns: each statement after the lock reads what the other committed,
    and the last writer writes the truth, not an older snapshot of it. Inside a submit's
    transaction it adds no savepoint: the lock lasts until that transaction ends.
    ``held``: the caller's transaction already holds both rows at least as strongly (a
    submit's or a review's lock, see assessments' lock_for_write), so it locks nothing."""
    if held and not connection.in_atomic_block:
        raise TransactionManagementError("A lock is held only inside a transaction.")
    with transaction.atomic(savepoint=False):
        if not held:
            engagement_hold(engagement_id)
        if connection.vendor == "postgresql" and SINGLE_STATEMENT_REFRESH:
            _refresh_in_one_statement(engagement_id)
        else:
            _refresh_orm(engagement_id)


def counted(engagement_ids: Iterable[int] | None = None) -> Any:
    rows = Assessment.objects.filter(status__in=COUNTED, submitted_at__isnull=False)
    if engagement_ids is not None:
        rows = rows.filter(engagement_id__in=list(engagement_ids))
    return rows


def _standing(
    latest: tuple[Any, ...],
    previous: tuple[Any, ...] | None,
    engagement: tuple[Any, ...],
    scores: dict[str, float | None],
    slots: dict[str, int],
) -> Standing:
    pk, engagement_id, submitted_at, maturity, level, defensiveness, quadrant, questionnaire = (
        latest
    )
    _id, client_id, client_name, process_type, phase, segment, owner_id, active = engagement
    return Standing(
        engagement_id=engagement_id,
        client_id=client_id,
        client_name=client_name,
        client_active=active,
        segment=segment,
        client_owner_id=owner_id,
        process_type=process_type,
        phase=phase,
        assessment_id=pk,
        questionnaire_id=questionnaire,
        submitted_at=submitted_at,
        maturity_score=maturity,
        maturity_level=level,
        defensiveness_index=defensiveness,
        quadrant=quadrant,
        previous_maturity_score=previous[3] if previous else None,
        previous_defensiveness_index=previous[5] if previous else None,
        reassess_due_at=cadence.due_at(submitted_at, level),
        **{slot_column(slots[code]): score for code, score in scores.items() if code in slots},
    )


@transaction.atomic
def _refresh_orm(engagement_id: int) -> None:
    rows = list(counted([engagement_id]).order_by("-submitted_at", "-id").values_list(*FIELDS)[:2])
    if not rows:
        Standing.objects.filter(engagement_id=engagement_id).delete()
        return
    engagement = Engagement.objects.values_list(*ENGAGEMENT_FIELDS).get(pk=engagement_id)
    scores = dict(
        DimensionResult.objects.filter(assessment_id=rows[0][0]).values_list("code", "score")
    )
    standing = _standing(
        rows[0], rows[1] if len(rows) > 1 else None, engagement, scores, slot_map(rows[0][7])
    )
    values = {
        f.attname: getattr(standing, f.attname)
        for f in Standing._meta.concrete_fields
        if f.attname not in GAP_COLUMNS
    }
    values.pop("engagement_id")
    # The perception gap (dashboards.gaps) stays, unless the engagement now stands on
    # another questionnaire, whose slots would file it under other dimensions.
    was_on = (
        Standing.objects.filter(engagement_id=engagement_id)
        .values_list("questionnaire_id", flat=True)
        .first()
    )
    if was_on is not None and was_on != values["questionnaire_id"]:
        values |= EMPTY
    Standing.objects.update_or_create(engagement_id=engagement_id, defaults=values)


def _slot_sql() -> dict[str, str]:
    names = [slot_column(slot) for slot in range(1, SLOTS + 1)]
    columns_of = {field.name: field.column for field in Standing._meta.concrete_fields}
    return {
        "columns": ", ".join(names),
        "scores": ", ".join(f"d.{name}" for name in names),
        "pivot": ", ".join(
            f"max(r.score) FILTER (WHERE ds.slot = {slot}) AS {slot_column(slot)}"
            for slot in range(1, SLOTS + 1)
        ),
        "updates": ", ".join(f"{name} = EXCLUDED.{name}" for name in names),
        # The perception gap stays, unless the engagement now stands on another
        # questionnaire (its slots would file the gap under other dimensions).
        "gap": ", ".join(
            f"{column} = CASE WHEN s.questionnaire_id = EXCLUDED.questionnaire_id "
            f"THEN s.{column} ELSE {_sql_literal(cleared)} END"
            for column, cleared in ((columns_of[name], value) for name, value in EMPTY.items())
        ),
    }


def _sql_literal(value: bool | int | None) -> str:
    """One of dashboards.gaps.EMPTY's values, written in SQL."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(int(value))


def _refresh_in_one_statement(engagement_id: int) -> None:
    with prepared_cursor() as cursor:
        cursor.execute(_refresh_sql(), {"e": engagement_id, "counted": [str(s) for s in COUNTED]})


@functools.cache
def _refresh_sql() -> str:
    """The refresh statement, built once per process, on one line so that psycopg parses
    it once too (it is on every submit's path; ``core.sql.one_line``); it is run prepared,
    so PostgreSQL plans it once per connection."""
    return one_line(
        _refresh(
            engagement="%(e)s",
            counted=(
                "assessments_assessment WHERE engagement_id = %(e)s"
                " AND status = ANY(%(counted)s) AND submitted_at IS NOT NULL"
            ),
            results="assessments_dimensionresult",
            gone="""
                , gone AS (
                    DELETE FROM dashboards_standing
                     WHERE engagement_id = %(e)s AND NOT EXISTS (SELECT 1 FROM latest)
                )""",
        )
    )


_ROW = "id, version_id, submitted_at, maturity_score, maturity_level, defensiveness_index, quadrant"


def _riding_sql() -> str:
    """The refresh as a rider of a first submit's statement (assessments.signals.Rider):
    the submitted assessment and its dimension rows are read from the statement's own
    CTEs, ``{assessment}`` and ``{dimensions}``, which its snapshot does not show; the
    engagement's other counted assessments from the table. Its snapshot starts after the
    submit's lock (``after_the_lock``), so it sees every writer of the engagement before
    it, as the refresh's own statement would. A first submit always leaves a standing:
    there is nothing to delete."""
    engagement = "(SELECT engagement_id FROM {assessment})"
    counted = ", ".join(f"'{status}'" for status in COUNTED)
    return one_line(
        _refresh(
            engagement=engagement,
            counted=f"""(
                SELECT {_ROW} FROM {{assessment}}
                 UNION ALL
                SELECT {_ROW} FROM assessments_assessment
                 WHERE engagement_id = {engagement} AND status = ANY(ARRAY[{counted}])
                       AND submitted_at IS NOT NULL AND id <> (SELECT id FROM {{assessment}})
            ) AS a""",
            results="""(
                SELECT assessment_id, code, score FROM {dimensions}
                 UNION ALL
                SELECT assessment_id, code, score FROM assessments_dimensionresult
            )""",
            gone="",
            returning="RETURNING engagement_id",
        )
    )


def _refresh(engagement: str, counted: str, results: str, gone: str, returning: str = "") -> str:
    """The refresh's one statement, on the engagement ``engagement`` (SQL), its counted
    assessments (``counted``: what the ranking reads FROM) and the dimension rows
    (``results``), with ``gone`` (the deletion of a standing left with nothing to count)
    — the one text of both forms (_refresh_sql, _riding_sql)."""
    slots = _slot_sql()
    days = cadence.days_sql("l.maturity_level")
    columns, scores, pivot, updates, gap = (
        slots["columns"],
        slots["scores"],
        slots["pivot"],
        slots["updates"],
        slots["gap"],
    )
    return f"""
        WITH ranked AS (
            SELECT {_ROW},
                   row_number() OVER (ORDER BY submitted_at DESC, id DESC) AS n
              FROM {counted}
             ORDER BY submitted_at DESC, id DESC
             LIMIT 2
        ), latest AS (
            SELECT * FROM ranked WHERE n = 1
        ), previous AS (
            SELECT * FROM ranked WHERE n = 2
        ){gone}
        INSERT INTO dashboards_standing AS s (
               engagement_id, client_id, client_name, client_active, segment, client_owner_id,
               process_type, phase, assessment_id, questionnaire_id, submitted_at,
               maturity_score,
               maturity_level, defensiveness_index, quadrant, previous_maturity_score,
               previous_defensiveness_index, reassess_due_at, {columns})
        SELECT e.id, c.id, c.name, c.is_active, c.segment, c.owner_id, e.process_type, e.phase,
               l.id, v.questionnaire_id, l.submitted_at, l.maturity_score, l.maturity_level,
               l.defensiveness_index, l.quadrant, p.maturity_score, p.defensiveness_index,
               l.submitted_at + make_interval(days => {days}), {scores}
          FROM latest l
          JOIN assessments_questionnaireversion v ON v.id = l.version_id
          LEFT JOIN previous p ON true
          LEFT JOIN (
                SELECT {pivot}
                  FROM {results} r
                  JOIN latest ON latest.id = r.assessment_id
                  JOIN assessments_questionnaireversion lv ON lv.id = latest.version_id
                  JOIN dashboards_dimensionslot ds
                    ON ds.code = r.code AND ds.questionnaire_id = lv.questionnaire_id
          ) AS d ON true
          JOIN clients_engagement e ON e.id = {engagement}
          JOIN clients_client c ON c.id = e.client_id
        ON CONFLICT (engagement_id) DO UPDATE SET
               {gap},
               client_id = EXCLUDED.client_id,
               client_name = EXCLUDED.client_name,
               client_active = EXCLUDED.client_active,
               segment = EXCLUDED.segment,
               client_owner_id = EXCLUDED.client_owner_id,
               process_type = EXCLUDED.process_type,
               phase = EXCLUDED.phase,
               assessment_id = EXCLUDED.assessment_id,
               questionnaire_id = EXCLUDED.questionnaire_id,
               submitted_at = EXCLUDED.submitted_at,
               maturity_score = EXCLUDED.maturity_score,
               maturity_level = EXCLUDED.maturity_level,
               defensiveness_index = EXCLUDED.defensiveness_index,
               quadrant = EXCLUDED.quadrant,
               previous_maturity_score = EXCLUDED.previous_maturity_score,
               previous_defensiveness_index = EXCLUDED.previous_defensiveness_index,
               reassess_due_at = EXCLUDED.reassess_due_at,
               {updates}
        {returning}
    """


# The engagement's standing after a first submit, written by the submit's own statement
# on PostgreSQL (dashboards.apps registers it; refresh_on_change then has nothing to do).
STANDING_RIDER = Rider(
    name="dashboards_standing",
    sql=_riding_sql(),
    params=lambda assessment: [],
    after_the_lock=True,
)


def client_saved(client: Client) -> bool:
    """A client's name, segment, owner or status changed (or might have): its standings
    follow, in one UPDATE that touches no row when nothing they copy changed. Returns
    whether a filter attribute (segment, owner, status) moved, so the summaries, which
    count the client under the old ones, get rebuilt soon."""
    filters = {
        "segment": client.segment,
        "client_owner_id": client.owner_id,
        "client_active": client.is_active,
    }
    copied = {"client_name": client.name, **filters}
    rows = Standing.objects.filter(client_id=client.pk)
    moved = rows.exclude(**filters).exists()
    rows.exclude(**copied).update(**copied)
    return moved


def engagement_saved(engagement: Engagement) -> bool:
    """The engagement's type or phase follow; returns whether either moved."""
    return bool(
        Standing.objects.filter(engagement_id=engagement.pk)
        .exclude(process_type=engagement.process_type, phase=engagement.phase)
        .update(process_type=engagement.process_type, phase=engagement.phase)
    )


@transaction.atomic
def standings_rebuild(engagement_ids: Iterable[int] | None = None) -> int:
    """Rebuild the standings (of ``engagement_ids``, or all) from the assessments, in bulk.
    Returns how many engagements have a standing."""
    ids = None if engagement_ids is None else list(engagement_ids)
    standings = Standing.objects.all() if ids is None else Standing.objects.filter(pk__in=ids)
    standings.delete()
    slots = slot_maps()
    chosen: list[tuple[tuple[Any, ...], tuple[Any, ...] | None]] = []
    latest: tuple[Any, ...] | None = None
    previous: tuple[Any, ...] | None = None
    rows = counted(ids).order_by("engagement_id", "-submitted_at", "-id").values_list(*FIELDS)
    for row in rows.iterator(chunk_size=10_000):
        if latest is None or row[1] != latest[1]:
            if latest is not None:
                chosen.append((latest, previous))
            latest, previous = row, None
        elif previous is None:
            previous = row
    if latest is not None:
        chosen.append((latest, previous))
    for start in range(0, len(chosen), 5000):
        batch = chosen[start : start + 5000]
        engagements = {
            row[0]: row
            for row in Engagement.objects.filter(
                pk__in=[last[1] for last, _p in batch]
            ).values_list(*ENGAGEMENT_FIELDS)
        }
        scores: dict[int, dict[str, float | None]] = {}
        for assessment_id, code, score in DimensionResult.objects.filter(
            assessment_id__in=[last[0] for last, _p in batch]
        ).values_list("assessment_id", "code", "score"):
            scores.setdefault(assessment_id, {})[code] = score
        Standing.objects.bulk_create(
            _standing(
                last, before, engagements[last[1]], scores.get(last[0], {}), slots.get(last[7], {})
            )
            for last, before in batch
        )
    gaps_refresh(ids)
    return len(chosen)
