from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # In ready(): the places name the models, so the app registry must be loaded.
        from webhooks.privacy import register_places

        register_places()
