"""Helpers for the Chromium tests."""

from __future__ import annotations

import time
from typing import Any


def wait_for_js(page: Any, expression: str, arg: Any = None, timeout: float = 15.0) -> None:
    """Wait until ``expression`` (an expression, or a function of ``arg``) is truthy in the
    page. Playwright's own wait_for_function evaluates its predicate from a string inside
    the page, which the Content-Security-Policy refuses (no eval); page.evaluate goes
    through DevTools, which the policy does not govern."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)
