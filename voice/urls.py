"""The pages a client respondent's link opens: nothing else of the product is reachable
from them (no sign-in, no navigation)."""

from django.urls import path

from voice import views

app_name = "voice"

urlpatterns = [
    path("<str:secret>/", views.survey, name="survey"),
    path("<str:secret>/q/<int:question_pk>/", views.answer, name="answer"),
    path("<str:secret>/finish/", views.finish, name="finish"),
]
