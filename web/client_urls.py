"""The client page's URLs, joined to the clients app's under the ``clients`` namespace in
``maturity/urls.py``."""

from django.urls import path

from web import client_page

urlpatterns = [
    path("<int:pk>/", client_page.client_detail, name="detail"),
    path("<int:pk>/<slug:key>/", client_page.section_view, name="section"),
    path("<int:pk>/<slug:key>/new/", client_page.section_add, name="section_add"),
    path("<int:pk>/<slug:key>/<int:row_pk>/edit/", client_page.section_edit, name="section_edit"),
    path(
        "<int:pk>/<slug:key>/<int:row_pk>/delete/",
        client_page.section_delete,
        name="section_delete",
    ),
]
