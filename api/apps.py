from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from api.privacy import register_places

        register_places()
        # In ready(): importing it registers the token scheme with drf-spectacular, which
        # must happen once, after the app registry is loaded.
        from api import schema  # noqa: F401
