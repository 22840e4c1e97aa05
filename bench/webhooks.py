"""Fan out 10,000 webhook events to 3 endpoints: the relay beside raw SQL claiming the same rows.

Issue 15: "fan-out of 10,000 events to 3 endpoints on a loopback receiver, deliveries per
second and the outbox drain beside a raw-SQL claim of the same rows".

**Recording.** Three active endpoints subscribe to ``assessment.submitted`` and point at a
receiver on 127.0.0.1 (one path each). ``--events`` events are recorded with the product's
own function, ``webhooks.services.events_record`` — on PostgreSQL one prepared statement
that inserts the events and one delivery per subscribed active endpoint (the outbox), so
10,000 events make 30,000 pending deliveries. The first ``--sample`` events are recorded
one per transaction, as a cause's transaction (a submit) records its event, and timed one
by one; the rest go through the same function ``--chunk`` events a transaction, only to
build the backlog quickly (same statement, same rows).

**Draining**, each on a fresh copy of those rows (``CREATE DATABASE … TEMPLATE``), until
nothing is due, one process and one connection:

* **relay** — ``webhooks.relay.deliveries_send`` called pass after pass, as the Celery
  task ``webhooks.tasks.send`` runs it in one worker: for each delivery a claim in its own
  transaction (``SELECT … ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED``,
  then an ``UPDATE`` that leases it for ``WEBHOOK_LEASE_SECONDS``), the delivery read with
  its event and endpoint (the secret decrypted), the body signed (Standard Webhooks), the
  POST (``webhooks.transport.post``: the address checked, a new connection, a timer for
  the whole request's deadline), and the outcome recorded in a second transaction (the
  delivery locked and found still leased, an ``Attempt``, the endpoint's failure count,
  the delivery). Every statement is counted and timed at the driver (an execute wrapper),
  and so are each ``post`` call and each ``COMMIT``, so the drain's seconds split into
  SQL, commits, HTTP and the rest (Python). The ``BEGIN`` psycopg sends before a
  transaction's first statement is a round trip of its own, timed with that statement;
  one delivery is first sent alone under ``CaptureQueriesContext`` (not timed) to show
  them all.
* **raw claim only** — one statement a delivery, in autocommit: the relay's claim (the
  same join on active endpoints, order, ``LIMIT 1 FOR UPDATE SKIP LOCKED``) in a CTE, the
  delivery marked delivered by the same statement, which returns the event's id and
  payload. The least an outbox drain does per row.
* **raw claim + POST** — the same statement, then the returned payload POSTed to the
  endpoint with ``http.client`` (a new connection each time, as the relay's; the same
  Standard Webhooks headers, the HMAC computed with ``hmac`` from secrets read once). This
  is the comparison the issue asks for: **relay ÷ (raw claim + POST)**. It sends before
  nothing is recorded of the send, so it is at most once, not the relay's at least once.
* **raw lease + POST + record** — the relay's own semantics written plainly: one statement
  claims and leases (returning the payload), the POST, one statement (a CTE) inserts the
  attempt and, only if the delivery is still under this lease (a conditional ``UPDATE``
  where the relay locks the row and compares), marks it delivered and clears the
  endpoint's failure count if it has one. Two statements in autocommit where the relay
  sends its statements in two transactions.

Per delivery the table gives the mean, the p50 and p95 of one delivery's whole cycle (for
the relay: from one claim to the next), the statements sent, the POST alone, and this
process's CPU time — which the machine's other work moves far less than the wall clock,
and which shows how much of the relay's time is Python. At the end every copy is
checked: every delivery delivered, one attempt each where attempts are recorded, and the
receiver got exactly ``--events`` requests on each endpoint's path, each with a distinct
``webhook-id`` (at least once, and here exactly once).

**The receiver** (``bench/_receiver.py``) is a ``ThreadingHTTPServer`` in a process of its
own, answering 200 ``ok`` and counting requests and distinct ``webhook-id`` headers by
path: in the bench's process it would take the GIL from the relay it is receiving from.
It still shares this machine's cores with PostgreSQL and the relay, as the raw drains'
receiver does, which is what the ratios are for.

The data lives in a throwaway database (``maturity_bench_webhooks`` unless ``--database``)
created next to the one in ``DATABASE_URL`` with Django's test-database machinery and
dropped at the end. ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is turned on for the run (the
receiver is on loopback). The relay's "send" messages, published after each recording
transaction commits, go to a Celery queue of the bench's own (``CELERY_QUEUE``), deleted
at the end: no worker runs them; the drains stand for the worker.

``--explain`` prints the plan of the relay's claim (``EXPLAIN (ANALYZE, BUFFERS)``) on a
fresh copy and after half the deliveries were claimed; ``--profile N`` profiles ``N``
deliveries of the relay (cProfile, on another fresh copy) and prints the functions that
take the most time.

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/maturity \\
        REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/webhooks.py [--events 10000] [--sample 500] [--explain] \\
        [--profile 2000]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hmac
import http.client
import io
import itertools
import json
import os
import pstats
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

# A queue of this run's own for the "send" messages recorded events publish (see above).
os.environ["CELERY_QUEUE"] = f"bench-webhooks-{uuid.uuid4().hex[:8]}"
# Not a line for each of those messages (django-structlog's task_enqueued) amid the figures.
os.environ.setdefault("LOG_LEVEL", "WARNING")

from _django import copy_of, percentiles, require_postgresql, throwaway_database
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from core.tasks import publisher
from maturity.celery import app
from webhooks import relay
from webhooks.models import SECRET_PREFIX, Endpoint
from webhooks.services import endpoint_create, event_record, events_record

QUEUE = os.environ["CELERY_QUEUE"]
EVENT_TYPE = "assessment.submitted"
PATHS = ("/hooks/crm", "/hooks/warehouse", "/hooks/audit")


# --- The receiver, in a process of its own ----------------------------------------------------


@dataclass
class Receiver:
    process: subprocess.Popen[str]
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _call(self, method: str) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, "/stats")
            return conn.getresponse().read()
        finally:
            conn.close()

    def stats(self) -> dict[str, dict[str, int]]:
        """Requests and distinct ``webhook-id`` headers received, by path."""
        return json.loads(self._call("GET"))

    def reset(self) -> None:
        self._call("DELETE")


@contextmanager
def receiver() -> Iterator[Receiver]:
    script = Path(__file__).with_name("_receiver.py")
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port:
            sys.exit(f"The receiver ({script}) did not start.")
        yield Receiver(process, int(port))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The events, recorded as the product records them -----------------------------------------


def event_data(i: int, rng: random.Random, now: datetime) -> dict[str, Any]:
    """An ``assessment.submitted`` payload's data, as assessments.events.assessment_data
    makes it."""
    assessment = 100_000 + i
    return {
        "assessment": assessment,
        "engagement": 20_000 + i % 3_000,
        "client": 10_000 + i % 1_200,
        "questionnaire_version": 1,
        "status": "submitted",
        "assessor": 1 + i % 40,
        "maturity": round(rng.uniform(1, 5), 2),
        "defensiveness": round(rng.uniform(0, 1), 3),
        "submitted_at": now,
        "reviewed_at": None,
        "url": f"https://maturity.example.com/assessments/{assessment}/result/",
    }


@contextmanager
def timed(target: Any, name: str, into: list[float]) -> Iterator[None]:
    """``target.name`` timed while in the block: each call's seconds added to ``into``."""
    original = getattr(target, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    with mock.patch.object(target, name, call):
        yield


@contextmanager
def timed_statements(into: list[float]) -> Iterator[None]:
    """Each statement's seconds at the driver added to ``into``."""

    def wrapper(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            into.append(time.perf_counter() - started)

    with connection.execute_wrapper(wrapper):
        yield


@dataclass
class Recording:
    alone: list[float]  # seconds per event recorded alone, in its own transaction
    alone_sql: list[float]  # of which its statement
    alone_commits: list[float]  # and its COMMIT
    alone_statements: list[str]
    bulk_events: int
    bulk_seconds: float
    deliveries: int


def record(events: int, sample: int, chunk: int, rng: random.Random) -> Recording:
    sample = max(1, min(sample, events))
    deliveries = 0
    # The first event shows the statements a recording transaction sends (and prepares the
    # statement on this connection, as the first request of a pooled connection does).
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        deliveries += event_record(EVENT_TYPE, event_data(0, rng, timezone.now()))
    alone: list[float] = []
    sql: list[float] = []
    commits: list[float] = []
    with timed_statements(sql), timed(connection, "_commit", commits):
        for i in range(1, sample):
            started = time.perf_counter()
            with transaction.atomic():
                deliveries += event_record(EVENT_TYPE, event_data(i, rng, timezone.now()))
            alone.append(time.perf_counter() - started)
    started = time.perf_counter()
    for first in range(sample, events, chunk):
        now = timezone.now()
        last = min(events, first + chunk)
        batch = [(EVENT_TYPE, event_data(i, rng, now)) for i in range(first, last)]
        with transaction.atomic():
            deliveries += events_record(batch, now=now)
    return Recording(
        alone=alone,
        alone_sql=sql,
        alone_commits=commits,
        alone_statements=[q["sql"] for q in captured.captured_queries],
        bulk_events=events - sample,
        bulk_seconds=time.perf_counter() - started,
        deliveries=deliveries,
    )


def prepare(rx: Receiver, events: int, sample: int, chunk: int) -> Recording:
    """A director, the three endpoints, the events; then VACUUM ANALYZE, as the copies
    will start from it."""
    director = User.objects.create(
        username="bench-director", email="director@bench.example", role=Role.DIRECTOR
    )
    for path in PATHS:
        endpoint_create(url=rx.url(path), event_types=[EVENT_TYPE], by=director)
    recording = record(events, sample, chunk, random.Random(2026))
    publisher.flush(10)  # the publishes after those commits, off the timed drains
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return recording


# --- The relay, every statement and every POST timed -------------------------------------------


def kind_of(sql: str) -> str:
    """A statement's kind: its verb, its tables (what an UPDATE sets first), FOR UPDATE."""
    verb = sql.split(None, 1)[0].upper()
    if verb in {"BEGIN", "COMMIT", "ROLLBACK"}:
        return verb
    if verb == "SELECT":
        tables = re.findall(r'(?:FROM|JOIN) "?(\w+)"?', sql)
        kind = "SELECT " + " ⋈ ".join(t.removeprefix("webhooks_") for t in tables)
        if "FOR UPDATE" in sql:
            kind += " FOR UPDATE SKIP LOCKED" if "SKIP LOCKED" in sql else " FOR UPDATE"
        return kind
    table = re.search(r'(?:INTO|UPDATE) "?(\w+)"?', sql)
    kind = f"{verb} {table.group(1).removeprefix('webhooks_') if table else '?'}"
    if verb == "UPDATE" and (column := re.search(r'SET "?(\w+)"?', sql)):
        kind += f" SET {column.group(1)}…"
    return kind


@dataclass
class Recorder:
    """An execute wrapper: each kind of statement counted and timed. With ``claiming``
    around relay._claim, also the moment each claim that found a delivery started (a
    delivery's cycle runs from one to the next), and the claim's statements apart."""

    count: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    claims: list[float] = field(default_factory=list)
    claim_seconds: list[float] = field(default_factory=list)  # its SELECT … FOR UPDATE's
    empty_claims: int = 0
    empty_statements: int = 0  # sent by the claims that found nothing
    _in_claim: bool = False
    _kinds: dict[str, str] = field(default_factory=dict)

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        result = execute(sql, params, many, context)
        spent = time.perf_counter() - started
        kind = self._kinds.get(sql)
        if kind is None:
            kind = self._kinds[sql] = kind_of(sql)
        if self._in_claim and "FOR UPDATE" in kind:
            if context["cursor"].rowcount == 0:
                kind = "SELECT … (claim that found nothing)"
            else:
                kind += " (claim)"
                self.claim_seconds.append(spent)
        self.count[kind] += 1
        self.seconds[kind] += spent
        return result

    @contextmanager
    def claiming(self) -> Iterator[None]:
        claim = relay._claim

        def recorded() -> int | None:
            started, sent = time.perf_counter(), self.count.total()
            self._in_claim = True
            try:
                delivery_id = claim()
            finally:
                self._in_claim = False
            if delivery_id is None:
                self.empty_claims += 1
                self.empty_statements += self.count.total() - sent
            else:
                self.claims.append(started)
            return delivery_id

        with mock.patch.object(relay, "_claim", recorded):
            yield


@dataclass
class Drain:
    label: str
    seconds: float
    deliveries: int
    cycles: list[float]  # seconds of each delivery's cycle
    statements: int  # sent for the deliveries (claims that found nothing excluded)
    cpu: float  # this process's CPU seconds (the receiver's and PostgreSQL's not counted)
    passes: int = 1
    recorder: Recorder | None = None
    posts: list[float] = field(default_factory=list)
    commits: list[float] = field(default_factory=list)
    one: list[str] = field(default_factory=list)  # one delivery's statements, as captured
    checked: str = ""

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds


# The relay's per-pass time budget (WEBHOOK_PASS_SECONDS) is kept: the drain calls
# deliveries_send pass after pass, as beat and the after-commit messages make a worker do,
# until a pass finds nothing due.
def drain_relay() -> Drain:
    # One delivery first, untimed, under CaptureQueriesContext: what one sends, with
    # Django's BEGIN and COMMIT (which the execute wrapper below does not see).
    with CaptureQueriesContext(connection) as captured:
        relay.deliveries_send(max_deliveries=1)
    recorder = Recorder()
    posts: list[float] = []
    commits: list[float] = []
    passes = 0
    sent = 0
    with (
        connection.execute_wrapper(recorder),
        recorder.claiming(),
        timed(relay, "post", posts),
        timed(connection, "_commit", commits),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            report = relay.deliveries_send()
            passes += 1
            tried = report.delivered + report.failed + report.gave_up
            sent += tried
            if not tried:
                break
        ended, cpu = time.perf_counter(), time.process_time() - cpu
    claims = recorder.claims
    cycles = [b - a for a, b in itertools.pairwise(claims)]
    if claims:
        cycles.append(ended - claims[-1])
    return Drain(
        label="relay (deliveries_send)",
        seconds=ended - started,
        deliveries=sent,
        cycles=cycles,
        statements=recorder.count.total() - recorder.empty_statements,
        cpu=cpu,
        passes=passes,
        recorder=recorder,
        posts=posts,
        commits=commits,
        one=[kind_of(query["sql"]) for query in captured.captured_queries],
    )


# --- Raw SQL: the same rows claimed by hand -----------------------------------------------------

# The relay's claim (webhooks.relay._claim): the next due delivery of an active endpoint.
_DUE = """
    SELECT d.id
    FROM webhooks_delivery d
    JOIN webhooks_endpoint e ON e.id = d.endpoint_id
    WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND e.is_active
    ORDER BY d.next_attempt_at, d.id
    LIMIT 1
    FOR UPDATE OF d SKIP LOCKED
"""

# Claimed and marked delivered in one statement.
RAW_DELIVER = f"""
WITH due AS ({_DUE})
UPDATE webhooks_delivery d
SET state = 'delivered', attempts = d.attempts + 1, delivered_at = now(),
    first_attempt_at = coalesce(d.first_attempt_at, now()), next_attempt_at = NULL,
    last_status = 200, last_error = ''
FROM due, webhooks_event ev
WHERE d.id = due.id AND ev.id = d.event_id
RETURNING d.id, d.endpoint_id, ev.id, ev.payload::text, d.attempts, d.next_attempt_at
"""

# Claimed and leased (WEBHOOK_LEASE_SECONDS) past the request's time limit, as _claim does.
RAW_LEASE = f"""
WITH due AS ({_DUE})
UPDATE webhooks_delivery d
SET next_attempt_at = now() + make_interval(secs => %(lease)s)
FROM due, webhooks_event ev
WHERE d.id = due.id AND ev.id = d.event_id
RETURNING d.id, d.endpoint_id, ev.id, ev.payload::text, d.attempts + 1, d.next_attempt_at
"""

# The successful attempt recorded, as relay._record does: the attempt logged; the delivery
# marked delivered (and the endpoint's failure count cleared, only where there is one)
# only if it is still this lease's — a conditional update where the relay locks the row
# and compares.
RAW_RECORD = """
WITH attempt AS (
    INSERT INTO webhooks_attempt
        (delivery_id, endpoint_id, number, started_at, status_code, latency_ms, error,
         response_excerpt)
    VALUES (%(id)s, %(endpoint)s, %(number)s, %(started)s, %(status)s, %(latency)s, '',
            %(excerpt)s)
), delivered AS (
    UPDATE webhooks_delivery
    SET state = 'delivered', attempts = %(number)s, delivered_at = now(),
        first_attempt_at = coalesce(first_attempt_at, %(started)s), next_attempt_at = NULL,
        last_status = %(status)s, last_error = ''
    WHERE id = %(id)s AND state = 'pending' AND next_attempt_at = %(leased)s
    RETURNING endpoint_id
)
UPDATE webhooks_endpoint SET consecutive_failures = 0, failing_since = NULL
WHERE id IN (SELECT endpoint_id FROM delivered)
  AND (consecutive_failures > 0 OR failing_since IS NOT NULL)
"""


@dataclass(frozen=True)
class Target:
    """An endpoint as the raw drains send to it: read (and its secret decrypted) once."""

    host: str
    port: int
    path: str
    key: bytes

    @classmethod
    def of(cls, endpoint: Endpoint) -> Target:
        parts = urlsplit(endpoint.url)
        key = base64.b64decode(endpoint.secret.removeprefix(SECRET_PREFIX))
        return cls(parts.hostname or "", parts.port or 80, parts.path, key)


def raw_post(target: Target, event_id: uuid.UUID, body: bytes) -> tuple[int, str]:
    """POST ``body`` with Standard Webhooks' headers, on a new connection."""
    message = f"msg_{event_id.hex}"
    timestamp = str(int(time.time()))
    signed = f"{message}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.digest(target.key, signed, "sha256")).decode()
    conn = http.client.HTTPConnection(
        target.host, target.port, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
    )
    try:
        conn.request(
            "POST",
            target.path,
            body,
            {
                "webhook-id": message,
                "webhook-timestamp": timestamp,
                "webhook-signature": f"v1,{signature}",
                "Content-Type": "application/json",
                "User-Agent": relay.USER_AGENT,
            },
        )
        response = conn.getresponse()
        excerpt = response.read(1000).decode("utf-8", "replace")
    finally:
        conn.close()
    if response.status != 200:
        sys.exit(f"The receiver answered {response.status}: the raw drains expect 200.")
    return response.status, excerpt


def drain_raw(label: str, *, send: bool, lease: bool) -> Drain:
    assert send or not lease, "a leased delivery is recorded after its POST"
    targets = {endpoint.pk: Target.of(endpoint) for endpoint in Endpoint.objects.all()}
    claim = RAW_LEASE if lease else RAW_DELIVER
    lease_seconds = settings.WEBHOOK_LEASE_SECONDS
    cycles = []
    posts = []
    statements = 0
    with connection.cursor() as cursor:
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            began = time.perf_counter()
            cursor.execute(claim, {"lease": lease_seconds})
            row = cursor.fetchone()
            if row is None:
                break
            statements += 1
            delivery_id, endpoint_id, event_id, payload, number, leased = row
            if send:
                at, posted = timezone.now(), time.perf_counter()
                status, excerpt = raw_post(targets[endpoint_id], event_id, payload.encode())
                posts.append(time.perf_counter() - posted)
                latency = round(1000 * posts[-1])
            if lease:
                cursor.execute(
                    RAW_RECORD,
                    {
                        "id": delivery_id,
                        "endpoint": endpoint_id,
                        "number": number,
                        "started": at,
                        "status": status,
                        "latency": latency,
                        "excerpt": excerpt,
                        "leased": leased,
                    },
                )
                statements += 1
            cycles.append(time.perf_counter() - began)
        ended, cpu = time.perf_counter(), time.process_time() - cpu
    return Drain(label, ended - started, len(cycles), cycles, statements, cpu, posts=posts)


# --- Checking what each drain left ------------------------------------------------------------


def check(drain: Drain, rx: Receiver, events: int, *, sent: bool, attempts: bool) -> None:
    """Every delivery delivered (with one attempt each where they are recorded); the
    receiver got each event once on each path, or nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM webhooks_delivery GROUP BY state")
        states = dict(cursor.fetchall())
        cursor.execute("SELECT count(*), count(DISTINCT delivery_id) FROM webhooks_attempt")
        made, distinct = cursor.fetchone()
    stats = rx.stats()
    want = len(PATHS) * events
    problems = []
    if states != {"delivered": want}:
        problems.append(f"deliveries by state {states}, not {want:,} delivered")
    if attempts and (made, distinct) != (want, want):
        problems.append(f"{made:,} attempts for {distinct:,} deliveries, not {want:,}")
    if not attempts and made:
        problems.append(f"{made:,} attempts recorded")
    expected = {p: {"requests": events, "distinct": events} for p in PATHS} if sent else {}
    if stats != expected:
        problems.append(f"the receiver got {stats}")
    if problems:
        raise AssertionError(f"{drain.label}: " + "; ".join(problems))
    drain.checked = (
        f"{want:,} delivered"
        + (f", {made:,} attempts" if attempts else ", no attempt recorded")
        + (
            f"; the receiver: {events:,} requests on each of {len(PATHS)} paths, "
            f"{events:,} distinct webhook-ids each"
            if sent
            else "; the receiver: no request"
        )
    )


# --- Printing -----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def report_recording(recording: Recording, events: int, chunk: int, seconds: float) -> None:
    alone = recording.alone
    print(f"recording with webhooks.services.events_record ({seconds:.1f} s in all):")
    if alone:
        p50, p95 = percentiles(alone)
        print(
            f"  {len(alone) + 1:,} events one per transaction, as a cause records its event: "
            f"p50 {ms(p50)} ms, p95 {ms(p95)} ms an event, {len(alone) / sum(alone):,.0f} "
            f"events/s; p50 of its statement {ms(statistics.median(recording.alone_sql))} ms, "
            f"of its COMMIT {ms(statistics.median(recording.alone_commits))} ms"
        )
    statements = recording.alone_statements
    print(f"  such a transaction's statements: {'; '.join(kind_of(s) for s in statements)}")
    if recording.bulk_events:
        print(
            f"  {recording.bulk_events:,} events in transactions of {chunk:,} (one statement "
            f"each): {recording.bulk_seconds:.2f} s, "
            f"{recording.bulk_events / recording.bulk_seconds:,.0f} events/s"
        )
    print(
        f"  → {events:,} events, {recording.deliveries:,} pending deliveries to "
        f"{len(PATHS)} endpoints",
        flush=True,
    )


def report(drains: list[Drain]) -> None:
    relay_drain = drains[0]
    print(
        f"\n{'drain':30}{'seconds':>9}{'deliv/s':>9}{'stmts/del':>10}{'mean ms':>9}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'POST ms':>9}{'CPU ms':>8}{'relay ÷':>9}"
    )
    for drain in drains:
        p50, p95 = percentiles(drain.cycles)
        ratio = "" if drain is relay_drain else f"{relay_drain.seconds / drain.seconds:.2f}×"
        post = ms(statistics.fmean(drain.posts)) if drain.posts else ""
        print(
            f"{drain.label:30}{drain.seconds:9.2f}{drain.per_second:9,.0f}"
            f"{drain.statements / drain.deliveries:10.2f}{ms(drain.seconds / drain.deliveries):>9}"
            f"{ms(p50):>8}{ms(p95):>8}{post:>9}{ms(drain.cpu / drain.deliveries):>8}{ratio:>9}"
        )
    print(
        "(a delivery's cycle: claim to claim for the relay; its statements leave out its two "
        "transactions' BEGIN and COMMIT, and the claims that found nothing, one a pass; "
        "the relay's first delivery is not timed; POST ms: the mean of the HTTP request "
        "alone, webhooks.transport.post's for the relay, http.client's for the raw drains; "
        "CPU ms: this process's CPU time a delivery, which the machine's other work moves "
        "less than the wall clock)"
    )
    print(f"\none delivery of the relay, as captured: {'; '.join(relay_drain.one)}")

    recorder = relay_drain.recorder
    assert recorder is not None
    print(
        f"\nwhere the relay's {relay_drain.seconds:.2f} s went ({relay_drain.passes} passes; "
        "statements timed at the driver, the BEGIN psycopg sends with a transaction's first "
        "statement included in it):"
    )
    for kind, count in recorder.count.most_common():
        spent = recorder.seconds[kind]
        print(f"  {spent:7.2f} s  {count:7,} × {kind} ({1000 * spent / count:.3f} ms each)")
    sql = sum(recorder.seconds.values())
    posts = sum(relay_drain.posts)
    print(
        f"  {posts:7.2f} s  {len(relay_drain.posts):7,} × webhooks.transport.post "
        f"({1000 * posts / len(relay_drain.posts):.3f} ms each: address checks, a new "
        "connection, the request, the answer's first bytes)"
    )
    commits = sum(relay_drain.commits)
    print(
        f"  {commits:7.2f} s  {len(relay_drain.commits):7,} × COMMIT "
        f"({1000 * commits / len(relay_drain.commits):.3f} ms each)"
    )
    rest = relay_drain.seconds - sql - posts - commits
    print(
        f"  {rest:7.2f} s  the rest, Python: the ORM building statements and instances, the "
        f"secret decrypted, the signature ({1000 * rest / relay_drain.deliveries:.3f} ms a "
        "delivery)"
    )
    claims = recorder.claim_seconds
    k = max(1, len(claims) // 10)
    print(
        f"  the claim statement: first {k:,} {1000 * sum(claims[:k]) / k:.3f} ms each, "
        f"last {k:,} {1000 * sum(claims[-k:]) / k:.3f} ms each"
    )

    print("\nchecked:")
    for drain in drains:
        print(f"  {drain.label:30}{drain.checked}")
    by = {drain.label: drain for drain in drains}
    seconds = relay_drain.seconds
    print(
        f"\nrelay ÷ (raw claim + POST) = {seconds / by['raw claim + POST'].seconds:.2f}×; "
        f"÷ raw lease + POST + record {seconds / by['raw lease + POST + record'].seconds:.2f}×; "
        f"÷ raw claim only {seconds / by['raw claim only'].seconds:.2f}×"
    )


def explain_claim(when: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the relay's claim, its text captured from _claim
    itself (in a transaction rolled back: nothing is claimed)."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            relay._claim()
        claim = next(q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + claim)
            plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    print(f"\nEXPLAIN ANALYZE of the relay's claim, {when}:")
    print("\n".join("    " + line for line in plan))


def explain(deliveries: int) -> None:
    """The claim's plan on the fresh rows, then after half of them were claimed (by the
    raw statement; dead index entries and all, not vacuumed)."""
    explain_claim(f"{deliveries:,} due")
    with connection.cursor() as cursor:
        for _ in range(deliveries // 2):
            cursor.execute(RAW_DELIVER)
    explain_claim(f"after {deliveries // 2:,} were claimed and marked delivered")


def profile(deliveries: int) -> None:
    relay.deliveries_send(max_deliveries=1)  # the connection's first statements, untimed
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    sent = relay.deliveries_send(max_deliveries=deliveries).delivered
    profiler.disable()
    seconds = time.perf_counter() - started
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
        lines = out.getvalue().replace(str(Path(sys.prefix)) + "/lib/", "").splitlines()
        header = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print(
            f"\nprofile of the relay sending {sent:,} deliveries ({seconds:.2f} s under the "
            f"profiler), by {order}:"
        )
        print("\n".join(line for line in lines[header:] if line.strip()))


# --- The bench's own queue ------------------------------------------------------------------------


def drop_queue() -> str:
    """The run's queue and the messages the recording published to it, deleted."""
    publisher.flush(10)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            queue = app.amqp.queues[QUEUE].bind(conn.default_channel)
            queue.declare()  # known to this channel, so that deleting it drops its binding
            purged = queue.purge() or 0
            queue.delete()
    except Exception as error:
        return f"the queue {QUEUE} could not be deleted ({type(error).__name__}: {error})"
    return f"the queue {QUEUE} deleted with its {purged:,} messages"


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    with receiver() as rx, throwaway_database(args.database) as base:
        migrated = time.perf_counter()
        print(f"migrate {migrated - started:.0f} s; receiver at 127.0.0.1:{rx.port}", flush=True)
        recording = prepare(rx, args.events, args.sample, args.chunk)
        report_recording(recording, args.events, args.chunk, time.perf_counter() - migrated)

        plans: list[tuple[Callable[[], Drain], bool, bool]] = [
            (drain_relay, True, True),
            (lambda: drain_raw("raw claim only", send=False, lease=False), False, False),
            (lambda: drain_raw("raw claim + POST", send=True, lease=False), True, False),
            (lambda: drain_raw("raw lease + POST + record", send=True, lease=True), True, True),
        ]
        drains = []
        for drain_with, sent, attempts in plans:
            rx.reset()
            with copy_of(base, f"{base}_run"):
                load = os.getloadavg()[0]
                drain = drain_with()
                check(drain, rx, args.events, sent=sent, attempts=attempts)
            drains.append(drain)
            print(
                f"  … {drain.label}: {drain.seconds:.2f} s, {drain.per_second:,.0f} deliveries/s "
                f"(the machine's load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)",
                flush=True,
            )
        report(drains)
        if args.explain:
            with copy_of(base, f"{base}_run"):
                explain(len(PATHS) * args.events)
        if args.profile:
            with copy_of(base, f"{base}_run"):
                profile(args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=500, help="events recorded one by one")
    parser.add_argument("--chunk", type=int, default=1_000, help="events a transaction after")
    parser.add_argument("--database", default="maturity_bench_webhooks")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    require_postgresql("the relay's claim and the recording statement are PostgreSQL's")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on 127.0.0.1
    started = time.perf_counter()
    try:
        run(args)
    finally:
        dropped = drop_queue()
    print(f"\n{dropped}; {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
