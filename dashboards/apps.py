from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        # In ready(): models and the receivers (which import them) need the app registry.
        from django.db.models.signals import post_delete, post_migrate, post_save

        from assessments.models import Assessment
        from assessments.signals import (
            assessment_reviewed,
            assessment_submitted,
            ride_on_submit,
            version_published,
        )
        from clients.models import Client, Engagement
        from dashboards import receivers, standings

        assessment_submitted.connect(
            receivers.refresh_on_change, dispatch_uid="dashboards.standing_submit"
        )
        ride_on_submit(standings.STANDING_RIDER)  # the standing, in a first submit's statement
        assessment_reviewed.connect(
            receivers.refresh_on_change, dispatch_uid="dashboards.standing_review"
        )
        post_delete.connect(
            receivers.refresh_on_delete,
            sender=Assessment,
            dispatch_uid="dashboards.standing_delete",
        )
        post_save.connect(
            receivers.client_saved, sender=Client, dispatch_uid="dashboards.standing_client"
        )
        post_save.connect(
            receivers.engagement_saved,
            sender=Engagement,
            dispatch_uid="dashboards.standing_engagement",
        )
        version_published.connect(
            receivers.slots_on_publish, dispatch_uid="dashboards.slots_on_publish"
        )
        post_migrate.connect(receivers.build_after_migrate, sender=self)

        from voice.signals import round_changed

        round_changed.connect(receivers.gap_on_round_change, dispatch_uid="dashboards.gap_round")
