from django.urls import path

from clients import import_views, views

# Joined with the client page's (web/client_urls.py) under the clients namespace in
# maturity/urls.py.
urlpatterns = [
    path("", views.client_list, name="list"),
    path("import/", import_views.client_import, name="import"),
    path("import/template.csv", import_views.client_import_template, name="import_template"),
    path("new/", views.client_create, name="create"),
    path("<int:pk>/edit/", views.client_edit, name="edit"),
    path("<int:pk>/archive/", views.client_archive, name="archive"),
    path(
        "<int:pk>/stakeholders/<int:stakeholder_pk>/personal-data.json",
        views.stakeholder_data_export,
        name="stakeholder_data_export",
    ),
    path(
        "<int:pk>/stakeholders/<int:stakeholder_pk>/erase/",
        views.stakeholder_data_erase,
        name="stakeholder_data_erase",
    ),
]
