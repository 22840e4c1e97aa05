from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Assessments")

    def ready(self) -> None:
        from assessments.privacy import register_places

        register_places()
        # In ready(): defaults imports the models and services, so the app registry must be
        # loaded first.
        from assessments.defaults import ensure_default_questionnaire_after_migrate

        post_migrate.connect(ensure_default_questionnaire_after_migrate, sender=self)
