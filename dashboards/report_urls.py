from django.urls import path

from dashboards import views

app_name = "reports"

urlpatterns = [
    path("<int:pk>/report/", views.client_report_page, name="client"),
    path("<int:pk>/report.pdf", views.client_report_pdf, name="client_pdf"),
]
