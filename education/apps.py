from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from assessments.signals import assessment_submitted, ride_on_submit


class EducationConfig(AppConfig):
    name = "education"
    verbose_name = _("Education")

    def ready(self) -> None:
        from education.privacy import register_places

        register_places()
        # In ready(): defaults and receivers import the models, so the app registry must be
        # loaded first.
        from education.defaults import ensure_default_playbook_after_migrate
        from education.receivers import (
            ask_raters,
            email_invitations,
            plan_on_round_closed,
            plan_on_submit,
            tell_directors_endpoint_disabled,
            withdraw_rating_requests,
        )
        from education.services.plans import PLAN_RIDER
        from voice.signals import invitations_issued, raters_added, raters_removed, round_changed
        from webhooks.signals import endpoint_disabled

        post_migrate.connect(ensure_default_playbook_after_migrate, sender=self)
        assessment_submitted.connect(plan_on_submit, dispatch_uid="education.plan_on_submit")
        ride_on_submit(PLAN_RIDER)  # the plan's row, in a first submit's own statement
        invitations_issued.connect(email_invitations, dispatch_uid="education.email_invitations")
        raters_added.connect(ask_raters, dispatch_uid="education.ask_raters")
        raters_removed.connect(
            withdraw_rating_requests, dispatch_uid="education.withdraw_rating_requests"
        )
        round_changed.connect(plan_on_round_closed, dispatch_uid="education.plan_on_round_closed")
        endpoint_disabled.connect(
            tell_directors_endpoint_disabled, dispatch_uid="education.endpoint_disabled"
        )
