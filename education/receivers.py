"""What education does when something happens elsewhere."""

from __future__ import annotations

from typing import Any

from assessments.models import Assessment
from education.services import plan_request


def plan_on_submit(sender: Any, *, assessment: Assessment, **kwargs: Any) -> None:
    """A submitted assessment asks for its engagement's plan, in the submit's transaction."""
    plan_request(assessment=assessment)
