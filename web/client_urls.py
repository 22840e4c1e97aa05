"""The client page's URLs, joined to the clients app's under the ``clients`` namespace in
``maturity/urls.py``."""

from django.urls import path

from web import client_page, client_voice

# The client's view of one engagement (web/client_voice.py).
_voice = "<int:pk>/engagements/<int:engagement_pk>/voice/"

urlpatterns = [
    path("<int:pk>/", client_page.client_detail, name="detail"),
    path(_voice, client_voice.voice_page, name="voice"),
    path(_voice + "open/", client_voice.round_open, name="voice_open"),
    path(_voice + "<int:round_pk>/invite/", client_voice.invite, name="voice_invite"),
    path(_voice + "<int:round_pk>/close/", client_voice.round_close, name="voice_close"),
    path(_voice + "<int:round_pk>/raters/", client_voice.rater_add, name="voice_rater_add"),
    path(
        _voice + "raters/<int:rater_pk>/remove/",
        client_voice.rater_remove,
        name="voice_rater_remove",
    ),
    path(
        _voice + "<int:round_pk>/reconcile/",
        client_voice.reconcile_page,
        name="voice_reconcile",
    ),
    path(
        _voice + "<int:round_pk>/reconcile/<int:question_pk>/",
        client_voice.decision_save,
        name="voice_decide",
    ),
    path(
        _voice + "<int:round_pk>/reconcile/done/",
        client_voice.reconcile,
        name="voice_reconciled",
    ),
    path(
        _voice + "invitations/<int:invitation_pk>/resend/",
        client_voice.invitation_resend,
        name="voice_resend",
    ),
    path(
        _voice + "invitations/<int:invitation_pk>/revoke/",
        client_voice.invitation_revoke,
        name="voice_revoke",
    ),
    path("<int:pk>/<slug:key>/", client_page.section_view, name="section"),
    path("<int:pk>/<slug:key>/new/", client_page.section_add, name="section_add"),
    path("<int:pk>/<slug:key>/<int:row_pk>/edit/", client_page.section_edit, name="section_edit"),
    path(
        "<int:pk>/<slug:key>/<int:row_pk>/delete/",
        client_page.section_delete,
        name="section_delete",
    ),
]
