"""What the assessments app's webhook events carry (webhooks.events lists the fields)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from assessments.models import Assessment
from core.links import site_url


def assessment_data(assessment: Assessment) -> dict[str, Any]:
    return {
        "assessment": assessment.pk,
        "engagement": assessment.engagement_id,
        "client": assessment.engagement.client_id,
        "questionnaire_version": assessment.version_id,
        "status": assessment.status,
        "assessor": assessment.assessor_id,
        "maturity": assessment.maturity_score,
        "defensiveness": assessment.defensiveness_index,
        "submitted_at": assessment.submitted_at,
        "reviewed_at": assessment.reviewed_at,
        "url": site_url(reverse("assessments:result", args=[assessment.pk])),
    }
