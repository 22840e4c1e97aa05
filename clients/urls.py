from django.urls import path

from clients import import_views, views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("import/", import_views.client_import, name="import"),
    path("import/template.csv", import_views.client_import_template, name="import_template"),
    path("new/", views.client_create, name="create"),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/edit/", views.client_edit, name="edit"),
    path("<int:pk>/archive/", views.client_archive, name="archive"),
    path("<int:pk>/<slug:key>/", views.section_view, name="section"),
    path("<int:pk>/<slug:key>/new/", views.section_add, name="section_add"),
    path("<int:pk>/<slug:key>/<int:row_pk>/edit/", views.section_edit, name="section_edit"),
    path("<int:pk>/<slug:key>/<int:row_pk>/delete/", views.section_delete, name="section_delete"),
]
