from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = _("The client's voice")

    def ready(self) -> None:
        from assessments.result_sections import register
        from voice.selectors import result_gap_section

        register(result_gap_section)

        from voice.privacy import register_places

        register_places()
