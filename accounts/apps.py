from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth import signals

        from accounts import signals as receivers
        from accounts.privacy import register_places

        register_places()

        signals.user_logged_in.connect(receivers.logged_in, dispatch_uid="security-login")
        signals.user_logged_out.connect(receivers.logged_out, dispatch_uid="security-logout")
        signals.user_login_failed.connect(receivers.login_failed, dispatch_uid="security-failed")
        user_locked_out.connect(receivers.locked_out, dispatch_uid="security-locked-out")
