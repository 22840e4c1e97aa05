"""Load: account managers autosaving and submitting assessments against gunicorn, with the
PostgreSQL connections counted all along.

One command builds a private stack, drives it with locust and tears it all down:

1. a private PostgreSQL cluster (``initdb`` into a temporary folder, a free port,
   ``max_connections`` as asked; **fsync, synchronous_commit and full_page_writes off** —
   a bench cluster thrown away at the end, so durability buys nothing here) and a private
   redis-server on a free port: the machine's shared services are not touched;
2. ``migrate``, ``seed_demo --clients N`` and one account manager per simulated user
   (``load001``…), each put on the team of clients of its own — no two simulated users see
   the same engagement — with an API token;
3. gunicorn as production runs it (``gunicorn.conf.py``: WEB_WORKERS × WEB_THREADS,
   gthread, ``DEBUG`` off, JSON logs), a Celery worker and beat, each process with its
   ``DATABASE_POOL_MAX_SIZE``; the configured maximum of connections is their sum;
4. a monitor thread polling ``pg_stat_activity`` from one dedicated connection every
   ``--sample`` seconds: client backends on the database other than itself, each traced to
   the process holding it (its client port), so the peak is known per process and role;
5. locust, headless (``bench/locustfile.py``): half the users in the browser (login form,
   CSRF, the htmx autosave endpoint, the submit form), half with a token on the API;
6. then it waits (bounded) until every submitted assessment has its education plan built,
   reads the logs for 5xx and tracebacks, and prints the figures.

Everything it starts is stopped — and the cluster folder removed — on success, failure,
Ctrl-C or SIGTERM; every wait is bounded. It exits 1 if any request failed, the connection
peak went above the configured maximum, or a submitted assessment's plan was not built.
Logs, locust's CSV files, every request's time (``requests.csv``) and the connection
timeline (``connections.csv``) stay in the results folder it names.

    .venv/bin/python bench/load.py [--users 100 --duration 180 --max-connections 50]

Run as root it runs PostgreSQL as the ``postgres`` user (initdb refuses root).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import pwd
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE = "maturity_load"
PASSWORD = "load-bench-password"
# Settings of the parent environment that would point the stack elsewhere.
INHERITED_SETTINGS = (
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_QUEUE", "DEBUG", "SECRET_KEY",
    "ALLOWED_HOSTS", "SITE_URL", "DATABASE_POOL_MAX_SIZE", "WEB_BIND", "WEB_WORKERS",
    "WEB_THREADS", "PROMETHEUS_MULTIPROC_DIR", "LOG_FORMAT", "LOG_LEVEL", "EMAIL_BACKEND",
    "VAR_DIR",
)  # fmt: skip


class Failed(Exception):
    """The stack could not be set up; the message says which step."""


# --- Processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM
    grace: float = 20.0


@dataclass
class Stack:
    """What this run started, stopped in reverse order whatever happens."""

    workdir: Path
    results: Path
    services: list[Service] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def start(
        self,
        name: str,
        command: list[str],
        *,
        env: dict[str, str],
        cwd: Path = ROOT,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
        grace: float = 20.0,
    ) -> Service:
        log_path = self.results / f"{name}.log"
        log = log_path.open("ab")
        self._logs.append(log)
        # A session of its own: Ctrl-C in the terminal reaches this script only, which
        # then stops every service in order (and its children, by process group).
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
        )
        service = Service(name, process, log_path, stop_signal, grace)
        self.services.append(service)
        return service

    def stop(self, service: Service) -> None:
        process = service.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, service.stop_signal)
            try:
                process.wait(timeout=service.grace)
            except subprocess.TimeoutExpired:
                print(f"  {service.name} did not stop in {service.grace:.0f} s: killed")
        # Whatever is left of its process group (a worker's children) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)

    def close(self) -> None:
        for service in reversed(self.services):
            self.stop(service)
        for log in self._logs:
            log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def run(command: list[str], *, env: dict[str, str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise Failed(f"{what}: no answer in {timeout:.0f} s") from error
    if done.returncode != 0:
        raise Failed(
            f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def wait_until(what: str, seconds: float, ready: Any, alive: Service | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if alive is not None and alive.process.poll() is not None:
            raise Failed(f"{alive.name} exited ({alive.process.returncode}); see {alive.log}")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.3)
    raise Failed(f"{what}: not ready after {seconds:.0f} s")


# --- PostgreSQL and Redis -------------------------------------------------------------------


def start_postgres(stack: Stack, pg_bin: Path, max_connections: int) -> tuple[int, Service]:
    data = stack.workdir / "pgdata"
    sockets = stack.workdir / "pgsock"
    data.mkdir()
    sockets.mkdir()
    user = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres"
        owner = pwd.getpwnam(user)
        os.chmod(stack.workdir, 0o755)
        for folder in (data, sockets):
            os.chown(folder, owner.pw_uid, owner.pw_gid)
    initdb = [str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    initdb += ["-E", "UTF8", "--locale=C.UTF-8"]
    try:
        subprocess.run(initdb, capture_output=True, check=True, timeout=120, user=user)
    except subprocess.CalledProcessError as error:
        raise Failed(f"initdb failed: {error.stderr.decode()[-2000:]}") from error
    port = free_port()
    settings = {
        "port": port,
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(sockets),
        "max_connections": max_connections,
        # A throwaway bench cluster: durability off (say so in the figures).
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        # Every new connection is logged: how many the run opened (the pools' churn).
        "log_connections": "on",
        "log_disconnections": "on",
    }
    command = [str(pg_bin / "postgres"), "-D", str(data)]
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    # SIGINT is PostgreSQL's fast shutdown: sessions are cut, nothing is waited for.
    service = stack.start(
        "postgres", command, env=dict(os.environ), user=user, stop_signal=signal.SIGINT
    )

    def accepting() -> bool:
        psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2
        ).close()
        return True

    wait_until("PostgreSQL", 60, accepting, service)
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    return port, service


def start_redis(stack: Stack) -> int:
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(stack.workdir)]
    service = stack.start("redis", command, env=dict(os.environ), grace=10)

    def pong() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    wait_until("redis", 20, pong, service)
    return port


# --- The accounts the simulated users log in with ------------------------------------------


def make_accounts(output: Path, count: int, browser_share: float) -> None:
    """Runs inside Django (``--internal-make-accounts``): one account manager per simulated
    user, on the team of a disjoint set of active clients (team membership, not ownership,
    so the seeded portfolio's owners and dashboards stay as they are), with a token."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maturity.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from api.services import api_token_issue
    from clients.models import Client
    from clients.services import client_update

    director = User.objects.get(username="director")
    clients = list(
        Client.objects.filter(is_active=True, engagements__isnull=False)
        .distinct()
        .order_by("pk")
        .prefetch_related("team_members", "engagements")
    )
    if len(clients) < count:
        raise SystemExit(f"{len(clients)} active clients with engagements for {count} users")
    hashed = make_password(PASSWORD)  # one hash for all: a login still checks it in full
    browsers = round(count * browser_share)
    accounts: list[dict[str, Any]] = []
    for index in range(count):
        user = User.objects.create(
            username=f"load{index + 1:03d}",
            first_name="Load",
            last_name=f"{index + 1:03d}",
            email=f"load{index + 1:03d}@example.com",
            role=Role.ACCOUNT_MANAGER,
            password=hashed,
        )
        _, token = api_token_issue(user=user, name="load test")
        # Browsers and API users alternate, so both kinds start from the first second.
        mode = (
            "browser" if (index * browsers) // count != ((index + 1) * browsers) // count else "api"
        )
        accounts.append(
            {
                "username": user.username,
                "password": PASSWORD,
                "token": token,
                "mode": mode,
                "engagements": [],
            }
        )
    users = list(User.objects.filter(username__startswith="load").order_by("username"))
    for position, client in enumerate(clients):
        member = users[position % count]
        client_update(client=client, by=director, team_members=[*client.team_members.all(), member])
        accounts[position % count]["engagements"] += [
            {"id": engagement.pk, "client": client.pk} for engagement in client.engagements.all()
        ]
    output.write_text(json.dumps(accounts, indent=1))


# --- Counting connections -------------------------------------------------------------------


@dataclass
class Sample:
    at: float
    total: int
    active: int
    idle_in_transaction: int
    by_role: dict[str, int]
    busiest_web_process: int
    cpu_percent: float


class Monitor(threading.Thread):
    """Polls pg_stat_activity from one connection of its own: client backends on the
    database other than itself, each traced through its client port to the process (and
    so the role — web, worker, beat) that holds it."""

    def __init__(self, *, port: int, interval: float, roles: dict[str, psutil.Process]) -> None:
        super().__init__(name="connection-monitor", daemon=True)
        self.port = port
        self.interval = interval
        self.roles = roles
        self.samples: list[Sample] = []
        self.per_process_peak: dict[tuple[str, int], int] = {}
        self.errors: list[str] = []
        self.started_at = time.monotonic()
        self._stop_event = threading.Event()
        self.conn = psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname=DATABASE, autocommit=True,
            application_name="load-monitor", connect_timeout=5,
            options="-c statement_timeout=5000",
        )  # fmt: skip

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
        with contextlib.suppress(Exception):
            self.conn.close()

    def _owners(self) -> dict[int, tuple[str, int]]:
        """Client port → (role, pid) for every connection to PostgreSQL our services hold."""
        owners: dict[int, tuple[str, int]] = {}
        for role, root in self.roles.items():
            try:
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for process in processes:
                try:
                    connections = process.net_connections(kind="tcp4")
                except psutil.Error:
                    continue
                for conn in connections:
                    if conn.raddr and conn.raddr.port == self.port and conn.laddr:
                        owners[conn.laddr.port] = (role, process.pid)
        return owners

    def sample(self) -> Sample:
        # Sockets are read before and after the query: a connection opened or closed
        # around it (a Celery task's, which lasts milliseconds) is still traced.
        owners = self._owners()
        rows = self.conn.execute(
            "SELECT client_port, state FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            [DATABASE],
        ).fetchall()
        owners |= self._owners()
        by_role: dict[str, int] = dict.fromkeys(self.roles, 0) | {"other": 0}
        by_process: dict[tuple[str, int], int] = {}
        for client_port, _state in rows:
            owner = owners.get(client_port)
            if owner is None:
                by_role["other"] += 1
                continue
            by_role[owner[0]] += 1
            by_process[owner] = by_process.get(owner, 0) + 1
        for key, count in by_process.items():
            self.per_process_peak[key] = max(self.per_process_peak.get(key, 0), count)
        return Sample(
            at=time.monotonic() - self.started_at,
            total=len(rows),
            active=sum(1 for _, state in rows if state == "active"),
            idle_in_transaction=sum(1 for _, state in rows if (state or "").startswith("idle in")),
            by_role=by_role,
            busiest_web_process=max(
                (n for (role, _), n in by_process.items() if role == "web"), default=0
            ),
            cpu_percent=psutil.cpu_percent(interval=None),
        )

    def run(self) -> None:
        psutil.cpu_percent(interval=None)
        while not self._stop_event.is_set():
            began = time.monotonic()
            try:
                self.samples.append(self.sample())
            except Exception as error:
                self.errors.append(repr(error))
            self._stop_event.wait(max(0.0, self.interval - (time.monotonic() - began)))

    def peak(self) -> Sample | None:
        return max(self.samples, key=lambda s: s.total, default=None)

    def write_timeline(self, path: Path) -> None:
        roles = [*self.roles, "other"]
        with path.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(
                [
                    "seconds",
                    "total",
                    "active",
                    "idle_in_transaction",
                    *roles,
                    "busiest_web_process",
                    "cpu_percent",
                ]
            )
            for s in self.samples:
                writer.writerow(
                    [
                        f"{s.at:.2f}",
                        s.total,
                        s.active,
                        s.idle_in_transaction,
                        *(s.by_role[r] for r in roles),
                        s.busiest_web_process,
                        s.cpu_percent,
                    ]
                )


# --- Reading the results --------------------------------------------------------------------


def locust_rows(prefix: Path) -> list[dict[str, str]]:
    with (prefix.parent / f"{prefix.name}_stats.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def locust_failures(prefix: Path) -> list[dict[str, str]]:
    path = prefix.parent / f"{prefix.name}_failures.csv"
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


@dataclass
class LogFindings:
    lines: int = 0
    server_errors: int = 0
    tracebacks: int = 0
    errors: int = 0
    pool_timeouts: int = 0
    worker_timeouts: int = 0
    examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.server_errors} 5xx, {self.tracebacks} tracebacks, {self.errors} error lines, "
            f"{self.pool_timeouts} pool timeouts, {self.worker_timeouts} worker timeouts"
        )


def read_log(path: Path) -> LogFindings:
    found = LogFindings()
    if not path.exists():
        return found
    for line in path.read_text(errors="replace").splitlines():
        found.lines += 1
        bad = False
        try:
            record = json.loads(line) if line.startswith("{") else None
        except ValueError:
            record = None
        if isinstance(record, dict):
            code = record.get("code")
            if isinstance(code, int) and code >= 500:
                found.server_errors += 1
                bad = True
            if record.get("level") in {"error", "critical"}:
                found.errors += 1
                bad = True
            if record.get("exception"):
                found.tracebacks += 1
                bad = True
        else:
            if "Traceback (most recent call last)" in line:
                found.tracebacks += 1
                bad = True
            if re.search(
                r"\[(ERROR|CRITICAL)\]|\b(ERROR|CRITICAL)/|\b(ERROR|FATAL|PANIC):  ", line
            ):
                found.errors += 1
                bad = True
        if "PoolTimeout" in line or "couldn't get a connection" in line:
            found.pool_timeouts += 1
            bad = True
        if "WORKER TIMEOUT" in line:
            found.worker_timeouts += 1
            bad = True
        if bad and len(found.examples) < 5:
            found.examples.append(line[:300])
    return found


def plans(port: int) -> dict[str, int]:
    """The simulated users' submitted assessments and their education plans."""
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname=DATABASE, connect_timeout=5
    ) as conn:
        row = conn.execute(
            """
            SELECT count(*) FILTER (WHERE a.submitted_at IS NOT NULL),
                   count(*) FILTER (WHERE a.submitted_at IS NOT NULL AND p.status = 'built'),
                   count(*) FILTER (WHERE a.submitted_at IS NOT NULL AND p.status = 'pending'),
                   count(*) FILTER (WHERE a.submitted_at IS NOT NULL AND p.id IS NULL),
                   count(*) FILTER (WHERE a.status = 'draft'),
                   (SELECT count(*) FROM assessments_answer x
                      JOIN assessments_assessment y ON y.id = x.assessment_id
                      JOIN accounts_user z ON z.id = y.assessor_id
                     WHERE z.username LIKE 'load%%')
              FROM assessments_assessment a
              JOIN accounts_user u ON u.id = a.assessor_id
              LEFT JOIN education_educationplan p ON p.assessment_id = a.id
             WHERE u.username LIKE 'load%%'
            """
        ).fetchone()
    assert row is not None
    keys = ["submitted", "built", "pending", "no_plan", "drafts_left", "answers"]
    return dict(zip(keys, row, strict=True))


# --- The run --------------------------------------------------------------------------------


def fmt_int(value: str | int | float) -> str:
    return f"{int(float(value)):,}"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    print(line(headers))
    print(
        "|"
        + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
        + "|"
    )
    for row in rows:
        print(line(row))


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="simulated users (default 100)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started a second")
    parser.add_argument("--duration", type=int, default=180, help="seconds of load (default 180)")
    parser.add_argument(
        "--max-connections", type=int, default=50, help="PostgreSQL max_connections"
    )
    parser.add_argument(
        "--clients", type=int, default=200, help="seed_demo --clients (default 200)"
    )
    parser.add_argument(
        "--browser-share",
        type=float,
        default=0.5,
        help="share of browser users; the rest use the API",
    )
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument(
        "--web-pool",
        type=int,
        default=None,
        help="DATABASE_POOL_MAX_SIZE of web processes (default: threads)",
    )
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument(
        "--worker-pool", type=int, default=1, help="DATABASE_POOL_MAX_SIZE of Celery processes"
    )
    parser.add_argument(
        "--sample", type=float, default=0.5, help="seconds between connection counts"
    )
    parser.add_argument(
        "--plan-wait", type=float, default=120, help="seconds to wait for the last plans"
    )
    parser.add_argument("--pg-bin", type=Path, default=Path("/usr/lib/postgresql/15/bin"))
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="folder for logs and CSV files (default: a new one in the temp dir)",
    )
    parser.add_argument("--internal-make-accounts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.internal_make_accounts:
        make_accounts(args.internal_make_accounts, args.users, args.browser_share)
        return 0
    if args.users > args.clients:
        parser.error("each simulated user needs a client of its own: --clients ≥ --users")
    web_pool = args.web_pool or args.web_threads
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    results = args.results or Path(tempfile.gettempdir()) / f"maturity-load-{stamp}"
    results.mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir=Path(tempfile.mkdtemp(prefix="maturity-load-stack-")), results=results)
    try:
        with terminate_on_sigterm():
            return load(args, stack, web_pool)
    except Failed as error:
        print(f"\nFAILED: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip teardown
        print(f"tearing down ({len(stack.services)} services, {stack.workdir})…", flush=True)
        stack.close()
        print(f"logs, locust CSV files and the connection timeline: {results}")


def load(args: argparse.Namespace, stack: Stack, web_pool: int) -> int:
    began = time.monotonic()
    print(
        f"private PostgreSQL (max_connections={args.max_connections}; fsync off) and redis…",
        flush=True,
    )
    pg_port, _ = start_postgres(stack, args.pg_bin, args.max_connections)
    redis_port = start_redis(stack)
    web_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_SETTINGS}
    env |= {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/{DATABASE}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_QUEUE": "maturity-load",
        # Production settings, as compose runs them (no TLS in front: no redirect, and
        # cookies not marked secure).
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        # Static files (collected, with whitenoise's manifest, as the image has them) and
        # beat's schedule file in the throwaway folder, not the project's var/.
        "VAR_DIR": str(stack.workdir / "var"),
    }
    python = sys.executable
    print(f"migrate, seed_demo --clients {args.clients}, {args.users} accounts…", flush=True)
    run(
        [python, "manage.py", "collectstatic", "--no-input"],
        env=env,
        timeout=300,
        what="collectstatic",
    )
    run([python, "manage.py", "migrate", "--no-input"], env=env, timeout=600, what="migrate")
    run(
        [python, "manage.py", "seed_demo", "--clients", str(args.clients), "--force"],
        env=env,
        timeout=1200,
        what="seed_demo",
    )
    accounts = stack.results / "accounts.json"
    run(
        [python, str(Path(__file__).resolve()), "--internal-make-accounts", str(accounts),
         "--users", str(args.users), "--browser-share", str(args.browser_share)],
        env=env, timeout=600, what="making the accounts",
    )  # fmt: skip
    with psycopg.connect(
        host="127.0.0.1", port=pg_port, user="postgres", dbname=DATABASE, autocommit=True
    ) as conn:
        conn.execute("VACUUM ANALYZE")
    setup_seconds = time.monotonic() - began

    web_env = env | {
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "WEB_WORKERS": str(args.web_workers),
        "WEB_THREADS": str(args.web_threads),
        "DATABASE_POOL_MAX_SIZE": str(web_pool),
        "PROMETHEUS_MULTIPROC_DIR": str(stack.workdir / "prometheus"),
    }
    celery_env = env | {"DATABASE_POOL_MAX_SIZE": str(args.worker_pool)}
    web = stack.start("gunicorn", [str(BIN / "gunicorn"), "maturity.wsgi"], env=web_env, grace=25)
    worker = stack.start(
        "worker",
        [python, "-m", "celery", "-A", "maturity", "worker", "--loglevel", "INFO",
         "--concurrency", str(args.worker_concurrency), "--hostname", "load@%h"],
        env=celery_env, grace=20,
    )  # fmt: skip
    beat = stack.start(
        "beat",
        [python, "-m", "celery", "-A", "maturity", "beat", "--loglevel", "INFO",
         "--schedule", str(stack.workdir / "celerybeat-schedule")],
        env=celery_env, grace=10,
    )  # fmt: skip
    base = f"http://127.0.0.1:{web_port}"

    def live() -> bool:
        with urllib.request.urlopen(f"{base}/health/live/", timeout=3) as response:
            return bool(response.status == 200)

    wait_until("gunicorn", 60, live, web)
    wait_until(
        "the Celery worker", 60, lambda: " ready." in worker.log.read_text(errors="replace"), worker
    )
    wait_until("beat", 30, lambda: "beat: Starting" in beat.log.read_text(errors="replace"), beat)

    # What the configuration allows: every process that may use the database, each at
    # most its pool. Celery's parent process runs no task but is counted like a child;
    # beat holds its pool plus the session lock's own connection (core/beat.py).
    configured = {
        "web": args.web_workers * web_pool,
        "worker": (args.worker_concurrency + 1) * args.worker_pool,
        "beat": args.worker_pool + 1,
    }
    configured_total = sum(configured.values())
    if configured_total + 1 > args.max_connections - 3:
        print(f"warning: {configured_total} + the monitor exceed max_connections − 3 reserved")
    monitor = Monitor(
        port=pg_port,
        interval=args.sample,
        roles={
            "web": psutil.Process(web.process.pid),
            "worker": psutil.Process(worker.process.pid),
            "beat": psutil.Process(beat.process.pid),
        },
    )
    monitor.start()

    prefix = stack.results / "locust"
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
        "--stop-timeout", "30", "--host", base, "--csv", str(prefix), "--only-summary",
        "--html", str(stack.results / "locust.html"), "--loglevel", "WARNING",
    ]  # fmt: skip
    print(
        f"locust: {args.users} users ({args.browser_share:.0%} browser), {args.duration} s, "
        f"against gunicorn {args.web_workers}×{args.web_threads} "
        f"(setup took {setup_seconds:.0f} s)…",
        flush=True,
    )
    locust = stack.start(
        "locust",
        command,
        env=env
        | {
            "LOAD_USERS_FILE": str(accounts),
            "LOAD_REQUESTS_FILE": str(stack.results / "requests.csv"),
        },
        stop_signal=signal.SIGINT,
        grace=40,
    )
    pg_log_before = (
        (stack.results / "postgres.log").read_text(errors="replace").count("connection authorized")
    )
    # The CPU time of children reaped meanwhile: locust's alone (the services run on).
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        locust.process.wait(timeout=args.duration + 120)
    except subprocess.TimeoutExpired as error:
        raise Failed(f"locust still running {args.duration + 120} s after its start") from error
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    load_seconds = monitor.samples[-1].at if monitor.samples else 0.0
    opened = (stack.results / "postgres.log").read_text(errors="replace").count(
        "connection authorized"
    ) - pg_log_before

    # The last submits' plans: the worker builds them within seconds; wait, bounded.
    deadline = time.monotonic() + args.plan_wait
    counts = plans(pg_port)
    while counts["pending"] and time.monotonic() < deadline:
        time.sleep(1)
        counts = plans(pg_port)
    monitor.stop()
    monitor.write_timeline(stack.results / "connections.csv")
    if not prefix.parent.joinpath(f"{prefix.name}_stats.csv").exists():
        raise Failed(f"locust wrote no statistics; see {locust.log}")

    # --- Figures ---
    rows = locust_rows(prefix)
    table = []
    total_failures = 0
    for row in rows:
        name = row["Name"] if row["Name"] == "Aggregated" else f"{row['Name']}"
        table.append([
            "**total**" if name == "Aggregated" else name,
            fmt_int(row["Request Count"]), fmt_int(row["Failure Count"]),
            f"{float(row['Requests/s']):.1f}", row["50%"], row["95%"], row["99%"], row["100%"],
        ])  # fmt: skip
        if name == "Aggregated":
            total_failures = int(row["Failure Count"])
    print()
    print(
        f"## Load: {args.users} users, {args.duration} s, max_connections "
        f"{args.max_connections} — {datetime.now():%Y-%m-%d %H:%M}"
    )
    print(
        f"machine: {psutil.cpu_count()} cores shared by PostgreSQL, redis, gunicorn "
        f"({args.web_workers}×{args.web_threads} gthread), the Celery worker "
        f"({args.worker_concurrency}) and beat, and locust itself; PostgreSQL with fsync off"
    )
    print()
    print_table(
        ["endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms"], table
    )

    peak = monitor.peak()
    print()
    if peak is None:
        print("connections: no sample taken")
        peak_total = configured_total + 1
    else:
        peak_total = peak.total
        roles = ", ".join(f"{role} {n}" for role, n in peak.by_role.items())
        allowed = ", ".join(f"{role} {n}" for role, n in configured.items())
        busiest = max(
            (n for (role, _), n in monitor.per_process_peak.items() if role == "web"), default=0
        )
        print(
            f"connections: peak {peak.total} ({roles}) at {peak.at:.0f} s, {peak.active} active; "
            f"configured maximum {configured_total} ({allowed}); with the monitor "
            f"{peak.total + 1} of max_connections {args.max_connections}"
        )
        worker_peaks = {
            role: max((n for (r, _), n in monitor.per_process_peak.items() if r == role), default=0)
            for role in ("web", "worker", "beat")
        }
        print(
            f"  busiest single process: web {busiest} (pool {web_pool}), worker "
            f"{worker_peaks['worker']} (pool {args.worker_pool}), beat {worker_peaks['beat']}; "
            "most idle in transaction at once: "
            f"{max(s.idle_in_transaction for s in monitor.samples)}; "
            f"{len(monitor.samples)} samples every {args.sample} s"
        )
        # A compact timeline: the peak of each tenth of the run.
        buckets = max(1, len(monitor.samples) // 10)
        marks = []
        for start in range(0, len(monitor.samples), buckets):
            chunk = monitor.samples[start : start + buckets]
            marks.append(f"{chunk[0].at:.0f}s:{max(s.total for s in chunk)}")
        print(f"  timeline (peak per slice): {'  '.join(marks)}")
        busy = [s.cpu_percent for s in monitor.samples if s.at <= load_seconds]
        if busy:
            print(
                f"  CPU: machine {sum(busy) / len(busy):.0f}% busy on average during the load"
                + (
                    f"; locust alone {100 * locust_cpu / max(1.0, args.duration):.0f}% of one core"
                    if locust_cpu
                    else ""
                )
            )
    print(f"  connections opened during the load: {opened} (PostgreSQL's log_connections)")
    if monitor.errors:
        print(f"  monitor: {len(monitor.errors)} samples lost, e.g. {monitor.errors[0]}")

    print()
    submit_requests = sum(
        int(row["Request Count"]) - int(row["Failure Count"])
        for row in rows
        if row["Name"].endswith("/submit/")
    )
    print(
        f"submits: {counts['submitted']} assessments submitted (locust: {submit_requests} "
        f"successful submit requests), plans built {counts['built']}, pending "
        f"{counts['pending']}, missing {counts['no_plan']}; {counts['drafts_left']} drafts "
        "left open when the run stopped; "
        f"{counts['answers']:,} answers stored"
    )
    findings = {
        name: read_log(stack.results / f"{name}.log")
        for name in ("gunicorn", "worker", "beat", "postgres")
    }
    for name, found in findings.items():
        print(f"log {name}: {found.summary()}")
        for example in found.examples[:3]:
            print(f"    {example}")
    failures = locust_failures(prefix)
    if failures:
        print("failures:")
        for failure in failures[:10]:
            print(
                f"  {failure['Occurrences']}× {failure['Method']} {failure['Name']}: "
                f"{failure['Error'][:200]}"
            )

    problems = []
    if total_failures:
        problems.append(f"{total_failures} requests failed")
    if peak_total > configured_total:
        problems.append(f"connection peak {peak_total} above the configured {configured_total}")
    if counts["pending"] or counts["no_plan"]:
        problems.append(
            f"{counts['pending'] + counts['no_plan']} submitted assessments without a built plan"
        )
    if findings["gunicorn"].server_errors or findings["gunicorn"].tracebacks:
        problems.append("5xx or tracebacks in gunicorn's log")
    print()
    print(
        "RESULT: "
        + (
            "FAILED — " + "; ".join(problems)
            if problems
            else "OK — 0 errors, connections within the configured pools"
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
