from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from web.demo import DEMO_USERS

# How long a child gets to stop after SIGTERM before it is killed.
STOP_SECONDS = 15


class Command(BaseCommand):
    help = (
        "Run the whole product in one terminal: the web server, a Celery worker and Celery "
        "beat, on whatever DATABASE_URL and broker the settings name. If any of them dies "
        "the others are stopped and the command exits non-zero, so a supervisor (systemd, "
        "a container runtime) sees the failure; Ctrl-C stops all three."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--noreload",
            action="store_true",
            help="Do not restart the web server when code changes.",
        )

    def commands(self, options: dict[str, Any]) -> dict[str, list[str]]:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "maturity"]
        web = [python, "manage.py", "runserver", f"{options['host']}:{options['port']}"]
        if options["noreload"]:
            web.append("--noreload")
        return {
            "web": web,
            # Worker and beat are separate processes so that each is watched: an embedded
            # beat (worker --beat) can die while its worker goes on, and nothing would say.
            "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"],
            "beat": [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }

    def handle(self, *args: Any, **options: Any) -> None:
        url = f"http://{options['host']}:{options['port']}/"
        # Each child leads a process group of its own, so stopping it stops what it
        # started too (runserver's autoreloader, the worker's pool processes).
        processes = {
            name: subprocess.Popen(command, cwd=settings.BASE_DIR, start_new_session=True)
            for name, command in self.commands(options).items()
        }
        logins = ", ".join(username for username, *_ in DEMO_USERS)
        pids = ", ".join(f"{name} {process.pid}" for name, process in processes.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"\nMaturity is starting at {url}\n"
                f"Demo logins: {logins} (password: {settings.DEMO_PASSWORD})\n"
                f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
                f"Celery broker: {settings.CELERY_BROKER_URL.split('://')[0]}. Ctrl-C stops.\n"
                f"Processes: {pids}\n"
            )
        )
        self.stdout.flush()

        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    # Any child ending on its own is a failure, even with code 0: the
                    # product is not whole without it.
                    self.stderr.write(
                        f"{name} exited with code {process.returncode}; stopping the others."
                    )
                    exit_code = process.returncode if process.returncode > 0 else 1
                    stopping = True
                    break
            else:
                time.sleep(0.5)
        self.stop_all(processes)
        if exit_code:
            sys.exit(exit_code)

    @staticmethod
    def stop_all(processes: dict[str, subprocess.Popen[bytes]]) -> None:
        # SIGTERM to each leader only: a Celery worker stops its own pool processes once
        # their tasks are done (a warm shutdown); signalled directly, they would die mid-task.
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            # Whatever is left of its group, the leader gone or not.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
