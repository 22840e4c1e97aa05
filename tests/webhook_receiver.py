"""A real HTTP receiver for webhook tests, on 127.0.0.1 in a thread of the test process:
it keeps every request (headers and body as received) and answers as it is told."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """How the receiver answers: ``status`` (and ``location`` for redirects), after
    ``delay`` seconds, with ``body``. ``statuses`` are used first, one per request."""

    status: int = 200
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    body: bytes = b"ok"
    location: str = ""


class Receiver:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.requests: list[Received] = []
        self.script = Script()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"{count} requests expected, {len(self.requests)} arrived")


@contextmanager
def receiver(port: int = 0) -> Iterator[Receiver]:
    """A receiver on ``port`` (a free one by default); a drill that takes a receiver down
    brings the next one up on the same port, where the endpoint's URL points."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            this = holder["receiver"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with this.lock:
                this.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                script = this.script
                status = script.statuses.pop(0) if script.statuses else script.status
            if script.delay:
                time.sleep(script.delay)
            self.send_response(status)
            if script.location:
                self.send_header("Location", script.location)
            self.send_header("Content-Length", str(len(script.body)))
            self.end_headers()
            # The sender may stop reading: what it should do with a large body.
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(script.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    holder["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["receiver"]
    finally:
        server.shutdown()
        server.server_close()
