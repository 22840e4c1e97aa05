"""Where the assessments app keeps personal data (core.privacy's registry)."""

from __future__ import annotations

from assessments.models import Answer, Assessment, AssessmentTransition
from core.privacy import FreeText, UserData, register


def register_places() -> None:
    register(
        FreeText(
            "answers", Answer, ("value", "na_reason", "note"), "assessment__engagement__client_id"
        ),
        FreeText(
            "reviews", AssessmentTransition, ("comment",), "assessment__engagement__client_id"
        ),
        UserData(
            "assessments_assessed",
            Assessment,
            "assessor_id",
            ("id", "engagement_id", "status", "submitted_at"),
        ),
        UserData(
            "assessment_decisions",
            AssessmentTransition,
            "by_id",
            ("id", "assessment_id", "from_status", "to_status", "comment", "at"),
        ),
    )
