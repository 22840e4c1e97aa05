"""Drain 100,000 due education actions: the dispatcher beside one raw SQL statement a batch.

``dispatch_actions`` claims due actions (``next_check_at <= now``) a batch per transaction
with ``SELECT … FOR UPDATE SKIP LOCKED``, applies the pure schedule, writes the
notifications (the outbox), spawns recurring occurrences and stores the new state. This
script drains a backlog of ``--actions`` due actions with it, at each of ``--batch-sizes``,
and prints the seconds, actions per second, batches and the SQL statements of every batch
(counted over the whole drain, by statement, with the time each kind takes), beside raw SQL
doing the same drain one statement a batch:

* **claim only** — the least any drain must do: a CTE that claims the batch
  (``ORDER BY next_check_at, id LIMIT n FOR UPDATE SKIP LOCKED``) and updates it;
* **claim + notify** — the same, plus one reminder notification per claimed row inserted
  in the same statement (a data-modifying CTE; params built from the client and the
  template, as the service's). This is the comparison the target is about;
* **same writes** — hand-written for this portfolio's three kinds of action: exactly the
  state, the notifications (reminder / overdue / an escalation to each director) and the
  spawned occurrences the service writes, checked afterwards against the service's result
  with a fingerprint of both databases.

Target: the service within 2.5× of the raw claim + notify statement.

The portfolio (users, clients, engagements with ``bulk_create``; the actions with
PostgreSQL ``COPY``; then ``VACUUM ANALYZE``) lives in a throwaway database,
``maturity_drainbench`` unless told otherwise, created next to the one in ``DATABASE_URL``
with Django's test-database machinery (``create_test_db``) and dropped at the end. Every
drain runs on its own copy (``CREATE DATABASE … TEMPLATE``), so all start from the same
rows and statistics. Its mix, all due now: 80 % due tomorrow (one reminder each), 10 %
due five days ago (overdue, then escalated to each of the 2 directors), 10 % recurring
every 4 weeks and due today (a reminder, and the next occurrence spawned).

``EXPLAIN (ANALYZE, BUFFERS)`` of the claim — the service's own query and the raw one —
is printed on a fresh copy and again half-way through a drain.

The experiments that led to the service's current batch (set-based writes from
``unnest`` arrays, a claim of plain rows, the due index in the claim's order) are told in
bench/README.md with their figures.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/maturity \\
        .venv/bin/python bench/drain.py [--actions 100000] [--batch-sizes 500,1000] \\
        [--no-explain]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from _django import copy_of, require_postgresql, throwaway_database
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from clients.models import Client, Country, Engagement, ProcessType, Segment, Size
from education import schedule, services
from education.models import (
    ActionTemplate,
    ActionType,
    EducationAction,
)

MANAGERS = 8
DIRECTORS = 2
RECURRING_WEEKS = 4


# --- The portfolio ----------------------------------------------------------------------------


ACTION_COLUMNS = (
    "engagement_id", "client_id", "template_id", "occurrence", "action_type", "title",
    "description", "reasons", "owner_id", "audience", "target_dimensions", "due_date",
    "every_weeks", "status", "outcome", "skip_reason", "next_spawned", "recurrence_closed",
    "next_check_at", "dimension_deltas", "created_at", "updated_at",
)  # fmt: skip


def generate(actions: int, clients: int, rng: random.Random) -> Counter[str]:
    """Users, clients, engagements in bulk; ``actions`` due actions with COPY."""
    password = make_password(None)
    managers = User.objects.bulk_create(
        User(
            username=f"bench-manager-{i}",
            email=f"manager{i}@bench.example",
            role=Role.ACCOUNT_MANAGER,
            password=password,
        )
        for i in range(MANAGERS)
    )
    User.objects.bulk_create(
        User(
            username=f"bench-director-{i}",
            email=f"director{i}@bench.example",
            role=Role.DIRECTOR,
            password=password,
        )
        for i in range(DIRECTORS)
    )
    portfolio = Client.objects.bulk_create(
        (
            Client(
                name=f"Cliente de Bancada {i:05d} Ltda.",
                segment=rng.choice(Segment.values),
                size=rng.choice(Size.values),
                country=rng.choice(Country.values),
                owner=managers[i % len(managers)],
            )
            for i in range(clients)
        ),
        batch_size=2_000,
    )
    engagements = Engagement.objects.bulk_create(
        (
            Engagement(client=client, process_type=process)
            for client in portfolio
            for process in rng.sample(ProcessType.values, rng.randint(1, 2))
        ),
        batch_size=2_000,
    )
    templates = list(ActionTemplate.objects.all())
    once = [t for t in templates if not t.every_weeks]
    recurring = [t for t in templates if t.every_weeks] or once
    policy = services.policy()
    now = timezone.now()
    today = timezone.localdate(now)
    kinds: Counter[str] = Counter()
    by_id = {client.pk: client for client in portfolio}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY education_educationaction ({', '.join(ACTION_COLUMNS)}) FROM STDIN"
        ) as copy,
    ):
        for i in range(actions):
            draw = rng.random()
            if draw < 0.8:
                kind, due, every = "reminder", today + timedelta(days=1), None
            elif draw < 0.9:
                kind, due, every = "overdue", today - timedelta(days=5), None
            else:
                kind, due, every = "recurring", today, RECURRING_WEEKS
            kinds[kind] += 1
            engagement = engagements[rng.randrange(len(engagements))]
            client = by_id[engagement.client_id]
            template = rng.choice(recurring if every else once)
            by_hand = rng.random() < 0.1  # added by hand: its own title, no template
            state = schedule.State(status="planned", due_date=due, every_weeks=every)
            next_check = schedule.next_check(state, policy)
            assert next_check is not None
            assert next_check <= now
            created = now - timedelta(days=rng.randint(7, 90))
            copy.write_row((
                engagement.pk, client.pk, None if by_hand else template.pk, 1,
                rng.choice(ActionType.values) if by_hand else template.action_type,
                f"Ação combinada {i}" if by_hand else "", "",
                "[]" if by_hand else json.dumps([{
                    "kind": "weak_dimension", "dimension": rng.choice(["governance", "sla"]),
                    "score": round(rng.uniform(10, 60), 1),
                }]),
                client.owner_id,
                json.dumps([] if by_hand else template.audience),
                json.dumps([] if by_hand else template.target_dimensions),
                due, every, "planned", "", "", False, False, next_check, "{}", created, created,
            ))  # fmt: skip
    return kinds


# --- Databases: a pristine portfolio, a fresh copy for each drain -----------------------------


# --- Counting and timing every statement --------------------------------------------------


CLAIM = re.compile(r'^SELECT .* FROM "?education_educationaction"?.* FOR UPDATE', re.S)


def kind_of(sql: str) -> str:
    """A statement's kind: its verb and table (and FOR UPDATE)."""
    if sql.lstrip().upper().startswith("WITH"):
        if "FOR UPDATE" in sql:
            return "WITH … (one raw statement: claim and writes)"
        return "WITH … (one statement: the batch's writes)"
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
    words = [sql.split()[0].upper()]
    if table:
        words.append(table.group(1))
    if " FOR UPDATE" in sql:
        words.append("FOR UPDATE")
    return " ".join(words)


@dataclass
class Recorder:
    """An execute wrapper: every statement's kind and time, grouped into batches (a batch
    starts with a claim that found rows; a claim that found none is kept apart)."""

    before: list[tuple[str, float]] = field(default_factory=list)
    batches: list[list[tuple[str, float]]] = field(default_factory=list)
    empty: list[tuple[str, float]] = field(default_factory=list)

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any):
        started = time.perf_counter()
        result = execute(sql, params, many, context)
        spent = time.perf_counter() - started
        kind = kind_of(sql)
        raw = kind.startswith("WITH") and "FOR UPDATE" in sql
        claim = CLAIM.match(sql) is not None
        if claim and context["cursor"].rowcount == 0:
            self.empty.append((kind, spent))
            return result
        if claim or raw:
            self.batches.append([])
        # a pass's set-up (the directors, outside any transaction) is not part of a batch
        in_batch = self.batches and connection.in_atomic_block
        (self.batches[-1] if in_batch else self.before).append((kind, spent))
        return result

    def full(self) -> list[list[tuple[str, float]]]:
        """The batches that claimed something."""
        return self.batches

    def sql_seconds(self) -> float:
        return sum(s for batch in [self.before, self.empty, *self.batches] for _k, s in batch)


@dataclass
class Drain:
    label: str
    batch_size: int
    seconds: float
    actions: int
    batches: int
    recorder: Recorder
    report: services.DispatchReport | None = None
    fingerprint: tuple[str, str] | None = None
    notifications: dict[str, int] = field(default_factory=dict)
    spawned: int = 0

    @property
    def per_second(self) -> float:
        return self.actions / self.seconds


@contextmanager
def small_query_log() -> Iterator[None]:
    """DEBUG keeps the last 9,000 statements' SQL (here up to ~1 MB a batch): keep 20."""
    saved = connection.queries_log
    connection.queries_log = type(saved)(maxlen=20)
    try:
        yield
    finally:
        connection.queries_log = saved


# The service's passes stop starting batches after EDUCATION_PASS_SECONDS (120 s): the
# drain is measured with no such budget, passes repeated until one claims nothing.
# One pass must drain everything: the dispatcher's per-pass time budget (which lets a
# production tick stop and leave the rest to the next) is lifted for the measurement.
BUDGET = 10.0**9


def drain_service(label: str, batch_size: int) -> Drain:
    recorder = Recorder()
    total = services.DispatchReport()
    passes = 0
    with small_query_log(), connection.execute_wrapper(recorder):
        started = time.perf_counter()
        while True:
            report = services.dispatch_actions(batch_size=batch_size, budget_seconds=BUDGET)
            passes += 1
            total.actions += report.actions
            total.batches += report.batches
            if not report.actions:
                break
        seconds = time.perf_counter() - started
    assert passes == 2, f"{passes} passes"  # the drain, then one that finds nothing
    return Drain(label, batch_size, seconds, total.actions, total.batches, recorder, total)


def drain_raw(label: str, sql: str, batch_size: int, max_batches: int | None = None) -> Drain:
    recorder = Recorder()
    parameters = {
        "batch": batch_size,
        "tz": settings.TIME_ZONE,
        "remind_days": settings.EDUCATION_REMINDER_DAYS,
        "escalate_days": settings.EDUCATION_ESCALATE_AFTER_DAYS,
    }
    actions = batches = 0
    with small_query_log(), connection.execute_wrapper(recorder):
        started = time.perf_counter()
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, parameters)  # type: ignore[arg-type]
                claimed = cursor.fetchone()[0]
            if not claimed:
                recorder.empty.extend(recorder.batches.pop())
                break
            actions += claimed
            batches += 1
            if claimed < batch_size or batches == max_batches:
                break
        seconds = time.perf_counter() - started
    return Drain(label, batch_size, seconds, actions, batches, recorder)


# --- The raw SQL ------------------------------------------------------------------------------

_CLAIM = """
    SELECT id FROM education_educationaction
    WHERE next_check_at <= now()
    ORDER BY next_check_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
"""
# The next check the service stores after a reminder (the overdue mark: the day after the
# due date); none for what is already overdue — so a drained row is not claimed again.
_NEXT = """CASE WHEN a.due_date >= (now() AT TIME ZONE %(tz)s)::date
               THEN (a.due_date + 1)::timestamp AT TIME ZONE %(tz)s END"""
_PARAMS = """jsonb_build_object(
    'action', c.id,
    'title', COALESCE(to_jsonb(NULLIF(c.title, '')), t.title, to_jsonb(c.action_type)),
    'client', cl.name, 'client_id', c.client_id,
    'due_date', to_char(c.due_date, 'YYYY-MM-DD'), 'action_type', c.action_type)"""

# Each notification's e-mail delivery, for recipients with an address (the in-app channel
# is the notification itself).
_DELIVERED = """, delivered AS (
    INSERT INTO education_delivery
        (notification_id, channel, state, attempts, next_attempt_at, last_error)
    SELECT n.id, 'email', 'pending', 0, now(), ''
    FROM notified n JOIN accounts_user u ON u.id = n.recipient_id
    WHERE u.email <> ''
)"""

RAW_CLAIM = f"""
WITH due AS ({_CLAIM}), claimed AS (
    UPDATE education_educationaction a
    SET reminded_at = now(), next_check_at = {_NEXT}, updated_at = now()
    FROM due WHERE a.id = due.id
    RETURNING a.id
)
SELECT count(*) FROM claimed
"""

RAW_NOTIFY = f"""
WITH due AS ({_CLAIM}), claimed AS (
    UPDATE education_educationaction a
    SET reminded_at = now(), next_check_at = {_NEXT}, updated_at = now()
    FROM due WHERE a.id = due.id
    RETURNING a.id, a.owner_id, a.client_id, a.template_id, a.title, a.action_type, a.due_date
), notified AS (
    INSERT INTO education_notification
        (recipient_id, kind, idempotency_key, action_id, params, created_at)
    SELECT c.owner_id, 'reminder', 'reminder.' || c.id || '.' || to_char(c.due_date, 'YYYY-MM-DD'),
           c.id, {_PARAMS}, now()
    FROM claimed c
    JOIN clients_client cl ON cl.id = c.client_id
    LEFT JOIN education_actiontemplate t ON t.id = c.template_id
    ON CONFLICT DO NOTHING
    RETURNING id, recipient_id
){_DELIVERED}
SELECT count(*) FROM claimed
"""

# Exactly what the service writes for a fresh planned action (nothing reminded, marked or
# spawned yet — every action of this portfolio), in one statement: the schedule's rules
# (schedule.pending/advance) written out in SQL for that state.
RAW_SAME = f"""
WITH due AS (
    SELECT id, due_date, every_weeks,
           (due_date + 1)::timestamp AT TIME ZONE %(tz)s AS overdue_mark,
           (due_date - %(remind_days)s)::timestamp AT TIME ZONE %(tz)s AS remind_mark,
           due_date::timestamp AT TIME ZONE %(tz)s AS spawn_mark
    FROM education_educationaction
    WHERE next_check_at <= now()
    ORDER BY next_check_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), flags AS (
    SELECT d.*, d.overdue_mark <= now() AS overdue,
           d.overdue_mark > now() AND LEAST(d.remind_mark, d.overdue_mark) <= now() AS remind,
           d.overdue_mark + make_interval(days => %(escalate_days)s) <= now() AS escalate,
           d.every_weeks IS NOT NULL AND d.spawn_mark <= now() AS spawn
    FROM due d
), claimed AS (
    UPDATE education_educationaction a
    SET reminded_at = CASE WHEN f.remind THEN now() END,
        overdue_at = CASE WHEN f.overdue THEN f.overdue_mark END,
        escalated_at = CASE WHEN f.escalate THEN now() END,
        next_spawned = f.spawn,
        next_check_at = LEAST(
            CASE WHEN NOT f.overdue THEN f.overdue_mark
                 WHEN NOT f.escalate
                 THEN f.overdue_mark + make_interval(days => %(escalate_days)s) END,
            CASE WHEN f.every_weeks IS NOT NULL AND NOT f.spawn THEN f.spawn_mark END),
        updated_at = now()
    FROM flags f WHERE a.id = f.id
    RETURNING a.*, f.remind, f.overdue, f.escalate, f.spawn
), spawned AS (
    INSERT INTO education_educationaction
        (engagement_id, client_id, plan_id, template_id, source_assessment_id, occurrence,
         action_type, title, description, reasons, owner_id, audience, target_dimensions,
         due_date, every_weeks, status, outcome, skip_reason, next_spawned, recurrence_closed,
         next_check_at, dimension_deltas, created_at, updated_at)
    SELECT engagement_id, client_id, plan_id, template_id, source_assessment_id, occurrence + 1,
           action_type, title, description, reasons, owner_id, audience, target_dimensions,
           due_date + 7 * every_weeks, every_weeks, 'planned', '', '', false, false,
           (due_date + 7 * every_weeks - %(remind_days)s)::timestamp AT TIME ZONE %(tz)s,
           '{{}}', now(), now()
    FROM claimed WHERE spawn
    ON CONFLICT DO NOTHING
), described AS (
    SELECT c.id, c.owner_id, c.remind, c.overdue, c.escalate,
           to_char(c.due_date, 'YYYY-MM-DD') AS due, u.email, {_PARAMS} AS params
    FROM claimed c
    JOIN clients_client cl ON cl.id = c.client_id
    JOIN accounts_user u ON u.id = c.owner_id
    LEFT JOIN education_actiontemplate t ON t.id = c.template_id
), notices AS (
    SELECT owner_id AS recipient_id, 'reminder' AS kind,
           'reminder.' || id || '.' || due AS key, id, params, email
    FROM described WHERE remind
    UNION ALL
    SELECT owner_id, 'overdue', 'overdue.' || id || '.' || due, id, params, email
    FROM described WHERE overdue
    UNION ALL
    SELECT director.id, 'escalation', 'escalation.' || d.id || '.' || d.due || '.' || director.id,
           d.id, d.params || jsonb_build_object('owner', d.owner_id), director.email
    FROM described d
    CROSS JOIN accounts_user director
    WHERE d.escalate AND director.is_active AND director.role = 'director'
), notified AS (
    INSERT INTO education_notification
        (recipient_id, kind, idempotency_key, action_id, params, created_at)
    SELECT recipient_id, kind, key, id, params, now()
    FROM notices
    ON CONFLICT DO NOTHING
    RETURNING id, recipient_id
){_DELIVERED}
SELECT count(*) FROM claimed
"""

# What must come out the same, whoever drained: every action's schedule state (without the
# ids of spawned rows, which depend on insertion order, and the moments "now") and every
# notification (without its times).
FINGERPRINT_ACTIONS = """
SELECT md5(string_agg(row, '|' ORDER BY row)) FROM (
    SELECT concat_ws(',', CASE WHEN occurrence = 1 THEN id END, engagement_id, template_id,
                     occurrence, due_date, title, reminded_at IS NOT NULL, overdue_at,
                     escalated_at IS NOT NULL, next_spawned, next_check_at) AS row
    FROM education_educationaction
) rows
"""
FINGERPRINT_NOTIFICATIONS = """
SELECT md5(string_agg(concat_ws(',', recipient_id, kind, idempotency_key, action_id,
                                params::text,
                                (SELECT string_agg(d.channel || ':' || d.state, ';'
                                                   ORDER BY d.channel)
                                   FROM education_delivery d WHERE d.notification_id = n.id)),
                      '|' ORDER BY idempotency_key))
FROM education_notification n
"""


def outcome(drain: Drain) -> None:
    """What the drain left behind: notifications by kind, spawned rows, the fingerprint."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, count(*) FROM education_notification GROUP BY kind")
        drain.notifications = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM education_educationaction WHERE occurrence > 1")
        drain.spawned = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM education_educationaction WHERE next_check_at <= now()"
        )
        left = cursor.fetchone()[0]
        assert left == 0, f"{drain.label}: {left} actions still due"
        cursor.execute(FINGERPRINT_ACTIONS)
        actions = cursor.fetchone()[0]
        cursor.execute(FINGERPRINT_NOTIFICATIONS)
        drain.fingerprint = (actions, cursor.fetchone()[0])


# --- EXPLAIN ------------------------------------------------------------------------------


def service_claim(batch_size: int):
    """The dispatcher's claim, exactly as dispatch_actions builds it."""
    return (
        EducationAction.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_check_at__lte=timezone.now())
        .order_by("next_check_at", "id")
        .values_list(*services.CLAIM_FIELDS)[:batch_size]
    )


def explain(batch_size: int, when: str) -> None:
    with transaction.atomic():  # FOR UPDATE needs a transaction; rolled back, nothing kept
        plan = service_claim(batch_size).explain(analyze=True, buffers=True)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + _CLAIM, {"batch": batch_size})
            raw = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    print(f"\nEXPLAIN ANALYZE of the service's claim, {when}:")
    print(indent(plan))
    print(f"EXPLAIN ANALYZE of the raw claim, {when}:")
    print(indent(raw))


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# --- Printing -------------------------------------------------------------------------------


def per_batch(drain: Drain) -> str:
    """The statements of each batch that claimed something: how many (min–max), by kind."""
    batches = drain.recorder.full()
    counts = Counter(len(batch) for batch in batches)
    shapes = Counter(" + ".join(kind for kind, _s in batch) for batch in batches)
    lines = [
        f"  {drain.label} @ {drain.batch_size}: statements per batch "
        + ", ".join(f"{n} in {c} batches" for n, c in sorted(counts.items()))
    ]
    lines += [f"      {c:4} × {shape}" for shape, c in shapes.most_common()]
    return "\n".join(lines)


def time_split(drain: Drain) -> str:
    spent: dict[str, float] = defaultdict(float)
    for batch in [drain.recorder.before, *drain.recorder.batches]:
        for kind, seconds in batch:
            spent[kind] += seconds
    sql = drain.recorder.sql_seconds()
    parts = [f"{seconds:6.2f} s  {kind}" for kind, seconds in sorted(spent.items(), key=lambda
             item: -item[1])]  # fmt: skip
    parts.append(f"{drain.seconds - sql:6.2f} s  Python between the statements, and the COMMITs")
    claims = [batch[0][1] for batch in drain.recorder.full()]
    if claims:
        k = max(1, len(claims) // 10)
        parts.append(
            f"claim statement: first {k} batches {1000 * sum(claims[:k]) / k:.1f} ms each, "
            f"last {k} {1000 * sum(claims[-k:]) / k:.1f} ms each"
        )
    return f"  {drain.label} @ {drain.batch_size} ({drain.seconds:.2f} s):\n" + "\n".join(
        "      " + part for part in parts
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2_000)
    parser.add_argument("--batch-sizes", default="500,1000")
    parser.add_argument("--database", default="maturity_drainbench")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    require_postgresql("the benchmark uses COPY")
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    started = time.perf_counter()
    with throwaway_database(args.database) as base:
        work = f"{base}_run"
        migrated = time.perf_counter()
        kinds = generate(args.actions, args.clients, random.Random(2026))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
        print(
            f"portfolio: {args.actions:,} due actions ({kinds['reminder']:,} due tomorrow, "
            f"{kinds['overdue']:,} overdue by 5 days, {kinds['recurring']:,} recurring and due "
            f"today), {args.clients:,} clients, {MANAGERS} managers, {DIRECTORS} directors; "
            f"{size}; migrate {migrated - started:.0f} s, "
            f"generate {time.perf_counter() - migrated:.0f} s",
            flush=True,
        )
        if not args.no_explain:
            with copy_of(base, work):
                report_plans(sizes[0], args.actions)

        runs: list[Drain] = []
        plans: list[Callable[[int], Drain]] = [
            lambda n: drain_service("service", n),
            lambda n: drain_raw("raw claim only", RAW_CLAIM, n),
            lambda n: drain_raw("raw claim + notify", RAW_NOTIFY, n),
            lambda n: drain_raw("raw same writes", RAW_SAME, n),
        ]
        for size in sizes:
            for run in plans:
                with copy_of(base, work) as copy_seconds:
                    drain = run(size)
                    outcome(drain)
                runs.append(drain)
                print(
                    f"  … {drain.label} @ {size}: {drain.seconds:.2f} s "
                    f"(its copy of the portfolio took {copy_seconds:.1f} s)",
                    flush=True,
                )
        report(runs, sizes)
    print(f"\n{time.perf_counter() - started:.0f} s in all")


def report_plans(batch_size: int, actions: int) -> None:
    """The claim's plans on a fresh copy and half-way through a drain; one batch's queries."""
    explain(batch_size, f"{actions:,} due rows, fresh")
    half = drain_raw("half-way", RAW_CLAIM, batch_size, max_batches=actions // batch_size // 2)
    explain(batch_size, f"after {half.actions:,} rows were claimed and updated (not vacuumed)")
    with CaptureQueriesContext(connection) as captured:
        services.dispatch_actions(batch_size=batch_size, max_batches=1)
    print(
        f"\none batch of {batch_size} under CaptureQueriesContext: "
        f"{len(captured.captured_queries)} queries — "
        + "; ".join(kind_of(q["sql"]) for q in captured.captured_queries),
        flush=True,
    )


def report(runs: list[Drain], sizes: list[int]) -> None:
    print(
        f"\n{'':40}{'batch':>6}{'seconds':>9}{'actions/s':>10}{'batches':>8}"
        f"{'stmts/batch':>12}{'ms/batch':>9}{'service ÷':>10}{'÷ raw c+n':>10}"
    )
    for drain in runs:
        by = {r.label: r for r in runs if r.batch_size == drain.batch_size}
        counts = sorted({len(batch) for batch in drain.recorder.full()})
        stmts = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
        raw = drain.label.startswith("raw")
        service_over = f"{by['service'].seconds / drain.seconds:.2f}×" if raw else ""
        over_raw = "" if raw else f"{drain.seconds / by['raw claim + notify'].seconds:.2f}×"
        print(
            f"{drain.label:40}{drain.batch_size:6}{drain.seconds:9.2f}"
            f"{drain.per_second:10,.0f}{drain.batches:8}{stmts:>12}"
            f"{1000 * drain.seconds / drain.batches:9.1f}{service_over:>10}{over_raw:>10}"
        )
    print("(service ÷: the service's seconds over this raw drain's at the same batch size; "
          "÷ raw c+n: this drain's over raw claim + notify's)")  # fmt: skip
    print("\nwhat each drain wrote (notifications by kind; spawned occurrences):")
    for drain in runs:
        same = "same" if drain.fingerprint == runs[0].fingerprint else "differs"
        print(
            f"  {drain.label:38} @ {drain.batch_size:<5}"
            + (", ".join(f"{k} {v:,}" for k, v in sorted(drain.notifications.items())) or "none")
            + f"; spawned {drain.spawned:,}"
            + f"; end state vs the service's @ {runs[0].batch_size}: {same}"
        )
    print("\nstatements per batch, counted over each whole drain:")
    for drain in runs:
        if not drain.label.startswith("raw"):
            print(per_batch(drain))
    print("\nwhere the time goes (statements timed at the driver, round trip included):")
    for drain in runs:
        print(time_split(drain))
    for size in sizes:
        by = {r.label: r for r in runs if r.batch_size == size}
        service = by["service"].seconds
        fair = service / by["raw claim + notify"].seconds
        print(
            f"\nverdict @ {size}: service ÷ raw claim + notify = {fair:.2f}× — target (within "
            f"2.5×) {'MET' if fair <= 2.5 else 'NOT MET'}; "
            f"÷ raw claim only {service / by['raw claim only'].seconds:.2f}×; "
            f"÷ raw same writes {service / by['raw same writes'].seconds:.2f}×"
        )


if __name__ == "__main__":
    main()
