from django.urls import path

from assessments import assessment_views
from assessments import questionnaire_views as questionnaires
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
    path("questionnaires/", questionnaires.questionnaire_index, name="questionnaires"),
    path("questionnaires/import/", questionnaires.version_upload, name="import"),
    path("questionnaires/versions/<int:pk>/", questionnaires.version_detail, name="version"),
    path(
        "questionnaires/versions/<int:pk>/edit/",
        questionnaires.version_edit,
        name="version_edit",
    ),
    path(
        "questionnaires/versions/<int:pk>/tune/",
        questionnaires.version_tune_view,
        name="version_tune",
    ),
    path(
        "questionnaires/versions/<int:pk>/copy/",
        questionnaires.version_copy,
        name="version_copy",
    ),
    path(
        "questionnaires/versions/<int:pk>/publish/",
        questionnaires.version_publish_view,
        name="version_publish",
    ),
    path(
        "questionnaires/versions/<int:pk>/export.json",
        questionnaires.version_download,
        name="version_export",
    ),
    path(
        "questionnaires/versions/<int:pk>/assessments.csv",
        version_assessments_csv,
        name="version_assessments_csv",
    ),
]
