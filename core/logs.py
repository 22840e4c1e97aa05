"""Where structlog's own loggers write (django-structlog's request line, its Celery
events): straight to standard error, one rendered line each, without passing through the
standard library's logging (a LogRecord, its handler and formatter, and the processors run
a second time): about 0.06 ms of every request. Records of the standard library's
loggers (Django's, Celery's, ours) go through ``LOGGING`` and come out the same way,
rendered by the same processors (``settings``)."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import structlog
import structlog.tracebacks

_LOCK = threading.Lock()


class StderrLogger:
    """A structlog logger that writes each rendered line to the process's standard error
    (``sys.__stderr__``: a Celery worker replaces ``sys.stderr`` with a proxy that would
    log the line again, as a warning), named after the module that asked for it
    (structlog's ``add_logger_name`` reads ``name``)."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def msg(self, message: str) -> None:
        stream = sys.__stderr__ or sys.stderr
        with _LOCK:
            try:
                stream.write(message + "\n")
                stream.flush()
            except (OSError, ValueError):  # closed or broken: the line is lost, not the
                pass  # request (the standard library's handlers do the same)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def stderr_logger(*args: Any) -> StderrLogger:
    """structlog's logger factory: ``structlog.get_logger(__name__)`` names the logger."""
    return StderrLogger(str(args[0]) if args else "")


def _gathered() -> list[Any]:
    """What every line carries, whoever logged it: the context bound to the request (its
    id, user and address), the logger's name, the level and the time."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _rendered(log_format: str) -> list[Any]:
    """One JSON object a line (``json``), or a readable line."""
    if log_format == "json":
        # The traceback as data, without each frame's local variables: a view's locals
        # hold what the user typed (a password, a token) and do not belong in logs.
        tracebacks = structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        return [
            structlog.processors.ExceptionRenderer(tracebacks),
            structlog.processors.JSONRenderer(),
        ]
    # Plain tracebacks: rich's, with every frame's locals, took seconds to render a kombu
    # traceback — on the request that logged it.
    return [
        structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    ]


def processors(log_format: str) -> list[Any]:
    """structlog's processors for its own loggers."""
    return [
        *_gathered(),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.UnicodeDecoder(),
        *_rendered(log_format),
    ]


def formatter(log_format: str) -> dict[str, Any]:
    """``LOGGING``'s formatter for the standard library's records: the same gathering
    (with the record's ``extra``) and the same rendering as structlog's own lines."""
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_rendered(log_format),
        ],
        "foreign_pre_chain": [*_gathered(), structlog.stdlib.ExtraAdder()],
    }


def configure(log_format: str, level: str) -> None:
    """structlog as settings wants it: lines below ``level`` dropped before anything is
    gathered, the rest rendered by ``processors`` and written by ``stderr_logger``."""
    structlog.configure(
        processors=processors(log_format),
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=stderr_logger,
        cache_logger_on_first_use=True,
    )
