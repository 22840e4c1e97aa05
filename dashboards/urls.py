from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.home, name="home"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/export/<slug:table>.csv", views.export, name="export"),
    path("mine/", views.mine, name="mine"),
    path("mine/export/<slug:table>.csv", views.mine_export, name="mine_export"),
]
