"""The API's one router: every app's viewsets are registered here, at the top of the house
(the apps below never import it)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api.views import MeView
from assessments.assessment_api import AssessmentViewSet
from assessments.questionnaire_api import QuestionnaireVersionViewSet, QuestionnaireViewSet
from clients.api import (
    ClientViewSet,
    EngagementViewSet,
    PastExperienceViewSet,
    StakeholderViewSet,
    TimelineEntryViewSet,
)
from dashboards.api import MyDashboardView, PortfolioDashboardView
from education.api import EducationActionViewSet, NotificationViewSet, PlaybookViewSet
from voice.api import ClientResponseViewSet, InvitationViewSet, RaterViewSet, RoundViewSet
from webhooks.api import EndpointViewSet

router = DefaultRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("stakeholders", StakeholderViewSet, basename="stakeholder")
router.register("past-experiences", PastExperienceViewSet, basename="past-experience")
router.register("timeline-entries", TimelineEntryViewSet, basename="timeline-entry")
router.register("questionnaires", QuestionnaireViewSet, basename="questionnaire")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register(
    "questionnaire-versions", QuestionnaireVersionViewSet, basename="questionnaire-version"
)
router.register("education-actions", EducationActionViewSet, basename="education-action")
router.register("playbooks", PlaybookViewSet, basename="playbook")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("rounds", RoundViewSet, basename="round")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("client-responses", ClientResponseViewSet, basename="client-response")
router.register("raters", RaterViewSet, basename="rater")
router.register("webhook-endpoints", EndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    path("v1/me/", MeView.as_view(), name="api-me"),
    path(
        "v1/dashboard/portfolio/",
        PortfolioDashboardView.as_view(),
        name="api-dashboard-portfolio",
    ),
    path("v1/dashboard/mine/", MyDashboardView.as_view(), name="api-dashboard-mine"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, as
    # the Content-Security-Policy wants.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
