"""Every write of the education app, one module per concern:

- ``scheduling``: an action's schedule inputs (the rule itself is ``education/schedule.py``);
- ``notifications``: the outbox rows, written in their cause's transaction;
- ``relay``: the outbox's deliveries sent through their channels, one row per transaction;
- ``playbooks``: rules and templates, their import and export;
- ``plans``: requested on submit, built by a worker, uplift and the next reassessment;
- ``actions``: what people do to actions;
- ``dispatcher``: the one periodic pass over the due index;
- ``digest``: the directors' weekly digest.

Views, viewsets, admin and tasks parse input and call these; nothing else writes education
rows. Timed work is idempotent by construction: rows are claimed with
``SELECT … FOR UPDATE SKIP LOCKED`` (so two workers never hold the same row), every event
sets a flag in the same transaction as the notification it writes, and every notification
has a unique idempotency key. Import from here (``from education import services``); the
modules are the house's inside.
"""

from education.services.actions import (
    MAX_DUE_DATE_YEARS,
    UPDATABLE,
    action_complete,
    action_create,
    action_may_change,
    action_reopen,
    action_skip,
    action_update,
)
from education.services.digest import weekly_digest
from education.services.dispatcher import (
    CLAIM_FIELDS,
    DispatchReport,
    dispatch,
    dispatch_actions,
    prompt_reassessments,
    sweep_pending_plans,
)
from education.services.notifications import (
    Notice,
    action_params,
    deliveries_retry,
    notice_params,
    notices_write,
    notification_for,
    notification_to_stakeholder,
    notifications_mark_read,
    notifications_retry,
    notifications_write,
)
from education.services.plans import (
    plan_build,
    plan_build_failed,
    plan_hear_gap,
    plan_orphaned,
    plan_request,
    plan_requested,
    uplift_measure,
)
from education.services.playbooks import (
    playbook_export,
    playbook_for,
    playbook_import,
    rule_delete,
    rule_save,
    rules_of,
    template_update,
)
from education.services.relay import RelayReport, notifications_relay, retry_delay
from education.services.scheduling import policy, reschedule, state_of

__all__ = [
    "CLAIM_FIELDS",
    "MAX_DUE_DATE_YEARS",
    "UPDATABLE",
    "DispatchReport",
    "Notice",
    "RelayReport",
    "action_complete",
    "action_create",
    "action_may_change",
    "action_params",
    "action_reopen",
    "action_skip",
    "action_update",
    "deliveries_retry",
    "dispatch",
    "dispatch_actions",
    "notice_params",
    "notices_write",
    "notification_for",
    "notification_to_stakeholder",
    "notifications_mark_read",
    "notifications_relay",
    "notifications_retry",
    "notifications_write",
    "plan_build",
    "plan_build_failed",
    "plan_hear_gap",
    "plan_orphaned",
    "plan_request",
    "plan_requested",
    "playbook_export",
    "playbook_for",
    "playbook_import",
    "policy",
    "prompt_reassessments",
    "reschedule",
    "retry_delay",
    "rule_delete",
    "rule_save",
    "rules_of",
    "state_of",
    "sweep_pending_plans",
    "template_update",
    "uplift_measure",
    "weekly_digest",
]
