from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
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
]
