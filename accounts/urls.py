from django.urls import path

from accounts import two_factor_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("language/", views.set_language, name="set_language"),
    path("login/code/", two_factor_views.second_factor, name="second_factor"),
    path("two-factor/", two_factor_views.two_factor, name="two_factor"),
    path("security/", views.security_log, name="security_log"),
    path("security/export.jsonl", views.security_log_export, name="security_log_export"),
    path("users/<int:pk>/personal-data.json", views.user_data_export, name="user_data_export"),
]
