from django.urls import path

from assessments import assessment_views, views
from assessments.export_views import version_assessments_csv

app_name = "assessments"

urlpatterns = [
    path(
        "engagements/<int:engagement_pk>/assess/",
        assessment_views.assessment_start_view,
        name="start",
    ),
    path("assessments/review/", assessment_views.review_queue, name="review_queue"),
    path("assessments/<int:pk>/", assessment_views.assessment_fill, name="fill"),
    path(
        "assessments/<int:pk>/answers/<int:question_pk>/",
        assessment_views.answer_save_view,
        name="answer",
    ),
    path("assessments/<int:pk>/submit/", assessment_views.assessment_submit_view, name="submit"),
    path("assessments/<int:pk>/result/", assessment_views.assessment_result, name="result"),
    path("assessments/<int:pk>/review/", assessment_views.assessment_review_view, name="review"),
    path("questionnaires/", views.questionnaire_index, name="questionnaires"),
    path("questionnaires/import/", views.version_upload, name="import"),
    path("questionnaires/versions/<int:pk>/", views.version_detail, name="version"),
    path("questionnaires/versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("questionnaires/versions/<int:pk>/tune/", views.version_tune_view, name="version_tune"),
    path("questionnaires/versions/<int:pk>/copy/", views.version_copy, name="version_copy"),
    path(
        "questionnaires/versions/<int:pk>/publish/",
        views.version_publish_view,
        name="version_publish",
    ),
    path(
        "questionnaires/versions/<int:pk>/export.json",
        views.version_download,
        name="version_export",
    ),
    path(
        "questionnaires/versions/<int:pk>/assessments.csv",
        version_assessments_csv,
        name="version_assessments_csv",
    ),
]
