from django.urls import path

from education import views

app_name = "education"

urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("clients/<int:client_pk>/actions/new/", views.action_add, name="action_add"),
    path("actions/<int:pk>/", views.action_row, name="action_row"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    *(
        path(f"actions/<int:pk>/{step}/", views.action_step, {"step": step}, f"action_{step}")
        for step in views.STEPS
    ),
    path("actions/<int:pk>/reopen/", views.action_reopen, name="action_reopen"),
    path("playbooks/", views.playbook_list, name="playbooks"),
    path("playbooks/<int:pk>/", views.playbook_detail, name="playbook"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("playbooks/<int:pk>/rules/new/", views.rule_edit, name="rule_add"),
    path("rules/<int:rule_pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_pk>/delete/", views.rule_delete, name="rule_delete"),
]
