from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from core.demo import DEMO_USERS


class Command(BaseCommand):
    help = (
        "Run the whole product in one terminal: the web server, a Celery worker and Celery "
        "beat, on whatever DATABASE_URL and broker the settings name. Ctrl-C stops all three."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        url = f"http://{options['host']}:{options['port']}/"
        commands = {
            "web": [python, "manage.py", "runserver", f"{options['host']}:{options['port']}"],
            # One process runs worker and beat: enough for one machine, and the beat
            # schedule is in code (maturity/celery.py), so nothing else needs starting.
            "worker+beat": [
                python,
                "-m",
                "celery",
                "-A",
                "maturity",
                "worker",
                "--beat",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        processes = {
            name: subprocess.Popen(command, cwd=settings.BASE_DIR)
            for name, command in commands.items()
        }
        logins = ", ".join(username for username, *_ in DEMO_USERS)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nMaturity is starting at {url}\n"
                f"Demo logins: {logins} (password: {settings.DEMO_PASSWORD})\n"
                f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
                f"Celery broker: {settings.CELERY_BROKER_URL.split('://')[0]}. Ctrl-C stops.\n"
            )
        )

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
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping.")
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if exit_code:
            sys.exit(exit_code)
