"""The loopback webhook receiver of bench/webhooks.py, run as a process of its own so that
answering does not take the GIL from the relay being measured.

``python bench/_receiver.py`` listens on a free port of 127.0.0.1 and prints it on its
first line. Every POST is answered 200 ``ok`` (the body read, nothing checked) and counted
by path, with the distinct ``webhook-id`` headers each path received; ``GET /stats``
returns those counts as JSON, ``DELETE /stats`` forgets them. It runs until terminated.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
requests: Counter[str] = Counter()
ids: defaultdict[str, set[str]] = defaultdict(set)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            requests[self.path] += 1
            ids[self.path].add(self.headers.get("webhook-id", ""))
        self._answer(b"ok")

    def do_GET(self) -> None:
        with lock:
            stats = {
                path: {"requests": n, "distinct": len(ids[path])} for path, n in requests.items()
            }
        self._answer(json.dumps(stats).encode(), "application/json")

    def do_DELETE(self) -> None:
        with lock:
            requests.clear()
            ids.clear()
        self._answer(b"ok")

    def _answer(self, body: bytes, kind: str = "text/plain") -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
