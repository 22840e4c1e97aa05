"""E-mail backends for tests: the edge of the world we do not reach.

``SinkBackend`` stands in for a mail server that deduplicates by Message-ID, as real
receivers do: each message becomes one file named after its Message-ID in
``MAIL_SINK_DIR``; a second copy of the same message is counted in ``duplicates`` instead.
``FailingBackend`` refuses every message.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


def sink_name(message_id: str) -> str:
    """The file a message with this Message-ID becomes in the sink."""
    return hashlib.sha256(message_id.encode()).hexdigest() + ".eml"


def delivered(folder: Path) -> set[str]:
    """The names of the messages the sink holds (each Message-ID once)."""
    if not folder.exists():
        return set()
    return {entry.name for entry in os.scandir(folder) if entry.name.endswith(".eml")}


def duplicates(folder: Path) -> list[str]:
    """The Message-IDs of the copies the sink received again, one per copy."""
    path = folder / "duplicates"
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").splitlines()


class SinkBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        folder = Path(os.environ["MAIL_SINK_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            message_id = message.extra_headers["Message-ID"]
            name = sink_name(message_id)
            try:
                with (folder / name).open("x", encoding="utf-8") as out:
                    out.write(message.message().as_string())
            except FileExistsError:
                with (folder / "duplicates").open("a", encoding="utf-8") as out:
                    out.write(message_id + "\n")
        return len(email_messages)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("the mail server refused the connection")
