"""Every write to clients and what hangs off them.

Views, API viewsets, the importer and the admin call these; each validates with the
model's ``full_clean`` (so the rules live on the model), saves, and records an audit event
for clients and engagements in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, SecurityEventKind, User
from accounts.services import security_event_record
from clients.events import client_data, phase_changed_data
from clients.models import (
    DUPLICATE_NAME_MESSAGE,
    AuditAction,
    AuditEvent,
    Client,
    Engagement,
    EngagementPhaseChange,
    PastExperience,
    Stakeholder,
    TimelineEntry,
)
from core.privacy import ERASED, redact_mentions
from core.sql import prepared_cursor
from webhooks.services import event_record, events_record

# An engagement held while its standing changes (dashboards.standings' refresh, and the
# writes that refresh it): the engagement locked against every writer, its client shared,
# so a reassignment of the client waits and another engagement's refresh does not. The
# clause, for a statement that names the engagement ``e`` and joins its client ``c``
# (ENGAGEMENT_CLIENT).
ENGAGEMENT_HELD = "FOR UPDATE OF e FOR SHARE OF c"
ENGAGEMENT_CLIENT = f"JOIN {Client._meta.db_table} c ON c.id = e.client_id"
_HOLD_SQL = (
    f"SELECT 1 FROM {Engagement._meta.db_table} e {ENGAGEMENT_CLIENT}"
    f" WHERE e.id = %s {ENGAGEMENT_HELD}"
)


def engagement_hold(engagement_id: int) -> None:
    """Hold the engagement (ENGAGEMENT_HELD) until the transaction ends."""
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(_HOLD_SQL, [engagement_id])
    else:  # SQLite serialises writers; other databases lock both rows for update
        list(
            Engagement.objects.select_related("client")
            .select_for_update(of=("self", "client"))
            .filter(pk=engagement_id)
            .only("id", "client__id")
        )


CLIENT_FIELDS = (
    "name", "legal_name", "tax_id", "segment", "size", "country", "owner", "notes", "is_active",
)  # fmt: skip
ENGAGEMENT_FIELDS = ("process_type", "description", "start_date", "end_date", "phase")
STAKEHOLDER_FIELDS = ("name", "role", "email", "phone", "influence", "stance", "notes")
PAST_EXPERIENCE_FIELDS = (
    "supplier", "process_type", "started_on", "ended_on", "outcome", "went_wrong",
    "severity", "legacy", "legacy_description", "notes",
)  # fmt: skip
TIMELINE_FIELDS = ("engagement", "kind", "relevance", "occurred_on", "title", "body")


def _shown(value: Any) -> Any:
    """A JSON-safe rendering of a field value for the audit trail."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, tuple[Any, Any]]:
    """Each field as (identity, shown): related rows compare by primary key, so two owners
    with the same name still count as a change, but the trail records the name."""
    snapshot = {}
    for name in fields:
        value = getattr(instance, name)
        identity = value.pk if isinstance(value, models.Model) else value
        snapshot[name] = (identity, _shown(value))
    return snapshot


def _diff(
    before: dict[str, tuple[Any, Any]], after: dict[str, tuple[Any, Any]]
) -> dict[str, list[Any]]:
    return {
        name: [before[name][1], after[name][1]]
        for name in after
        if before[name][0] != after[name][0]
    }


def _created(snapshot: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {
        name: [None, shown] for name, (_, shown) in snapshot.items() if shown not in ("", None, [])
    }


@contextmanager
def _unique_name_guard() -> Iterator[None]:
    """Two people saving the same new name at once both pass validation; the database
    constraint stops the second, and it gets the same message as a validated duplicate."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        if "client_name_unique_ci" not in str(error):
            raise
        raise ValidationError({"name": [DUPLICATE_NAME_MESSAGE]}) from None


def _assign(instance: models.Model, allowed: Iterable[str], values: dict[str, Any]) -> None:
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields for {type(instance).__name__}: {sorted(unknown)}")
    for name, value in values.items():
        setattr(instance, name, value)


def _audit(
    *,
    client: Client,
    by: User | None,
    action: str,
    subject: str,
    changes: dict[str, Any] | None = None,
    engagement: Engagement | None = None,
) -> None:
    AuditEvent.objects.create(
        client=client,
        engagement=engagement,
        actor=by,
        action=action,
        subject=subject[:250],
        changes=changes or {},
    )


# --- Clients --------------------------------------------------------------------------------


def _checked_team(team_members: Iterable[User]) -> list[User]:
    """Team members share the client's data: active account managers and directors only."""
    members = list(team_members)
    wrong = [
        str(user)
        for user in members
        if not user.is_active or user.role not in (Role.ACCOUNT_MANAGER, Role.DIRECTOR)
    ]
    if wrong:
        raise ValidationError(
            {
                "team_members": [
                    _("Only active account managers and directors can join a team: %(users)s.")
                    % {"users": ", ".join(wrong)}
                ]
            }
        )
    return members


def _team_change(members: Iterable[User]) -> str:
    return ", ".join(sorted(str(user) for user in members))


@transaction.atomic
def client_create(*, by: User | None, team_members: Iterable[User] = (), **fields: Any) -> Client:
    members = _checked_team(team_members)
    client = Client()
    _assign(client, CLIENT_FIELDS, fields)
    client.full_clean()
    with _unique_name_guard():
        client.save()
    changes = _created(_snapshot(client, CLIENT_FIELDS))
    if members:
        client.team_members.set(members)
        changes["team_members"] = [None, _team_change(members)]
    _audit(client=client, by=by, action=AuditAction.CREATED, subject=client.name, changes=changes)
    event_record("client.created", client_data(client))
    return client


@transaction.atomic
def clients_import(
    *, rows: Iterable[tuple[dict[str, Any], Iterable[User]]], by: User | None
) -> list[Client]:
    """Create many clients at once (the CSV import): a few queries for any number of rows.

    Each row is validated like ``client_create`` validates one, except for the checks that
    would cost a query per row: the owner is given as a loaded User (checked by the model's
    clean()), and the unique name is left to the database constraint, which raises
    ValidationError on ``name`` through the same guard. The caller checks names up front.
    """
    clients: list[Client] = []
    teams: list[list[User]] = []
    for fields, team_members in rows:
        client = Client()
        _assign(client, CLIENT_FIELDS, fields)
        client.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
        clients.append(client)
        teams.append(_checked_team(team_members))
    with _unique_name_guard():
        Client.objects.bulk_create(clients, batch_size=1000)
    Membership = Client.team_members.through
    Membership.objects.bulk_create(
        (
            Membership(client_id=client.pk, user_id=user.pk)
            for client, members in zip(clients, teams, strict=True)
            for user in members
        ),
        batch_size=1000,
    )
    events = []
    for client, members in zip(clients, teams, strict=True):
        changes = _created(_snapshot(client, CLIENT_FIELDS))
        if members:
            changes["team_members"] = [None, _team_change(members)]
        events.append(
            AuditEvent(
                client=client,
                actor=by,
                action=AuditAction.IMPORTED,
                subject=client.name[:250],
                changes=changes,
            )
        )
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    events_record([("client.created", client_data(client)) for client in clients])
    return clients


@transaction.atomic
def client_update(
    *, client: Client, by: User | None, team_members: Iterable[User] | None = None, **fields: Any
) -> Client:
    members = None if team_members is None else _checked_team(team_members)
    # Work on the row as stored, locked: two saves at once apply one after the other, and
    # each one's audit shows what it really changed.
    client = Client.objects.select_for_update().get(pk=client.pk)
    before = _snapshot(client, CLIENT_FIELDS)
    _assign(client, CLIENT_FIELDS, fields)
    client.full_clean()
    with _unique_name_guard():
        client.save()
    changes = _diff(before, _snapshot(client, CLIENT_FIELDS))
    if members is not None:
        old = list(client.team_members.all())
        client.team_members.set(members)
        if {user.pk for user in old} != {user.pk for user in members}:
            changes["team_members"] = [_team_change(old), _team_change(members)]
    if changes:
        action = AuditAction.UPDATED
        if set(changes) == {"is_active"}:
            action = AuditAction.ARCHIVED if not client.is_active else AuditAction.RESTORED
        _audit(client=client, by=by, action=action, subject=client.name, changes=changes)
        archived = "is_active" in changes and not client.is_active
        event_record("client.archived" if archived else "client.updated", client_data(client))
    return client


def client_archive(*, client: Client, by: User | None) -> Client:
    """Archive a client: it leaves the active portfolio but keeps all its history."""
    return client_update(client=client, by=by, is_active=False)


def client_restore(*, client: Client, by: User | None) -> Client:
    return client_update(client=client, by=by, is_active=True)


# --- Engagements ----------------------------------------------------------------------------


def _record_phase(engagement: Engagement, *, from_phase: str, by: User | None) -> None:
    now = timezone.now()
    engagement.phase_changed_at = now
    EngagementPhaseChange.objects.create(
        engagement=engagement,
        from_phase=from_phase,
        to_phase=engagement.phase,
        changed_at=now,
        changed_by=by,
    )


@transaction.atomic
def engagement_create(*, client: Client, by: User | None, **fields: Any) -> Engagement:
    engagement = Engagement(client=client)
    _assign(engagement, ENGAGEMENT_FIELDS, fields)
    engagement.full_clean()
    engagement.save()
    _record_phase(engagement, from_phase="", by=by)
    engagement.save(update_fields=["phase_changed_at"])
    _audit(
        client=client,
        by=by,
        action=AuditAction.CREATED,
        subject=str(engagement),
        engagement=engagement,
        changes=_created(_snapshot(engagement, ENGAGEMENT_FIELDS)),
    )
    return engagement


@transaction.atomic
def engagement_update(*, engagement: Engagement, by: User | None, **fields: Any) -> Engagement:
    # Locked and re-read, as in client_update: the phase history needs the true old phase.
    engagement = (
        Engagement.objects.select_for_update().select_related("client").get(pk=engagement.pk)
    )
    before = _snapshot(engagement, ENGAGEMENT_FIELDS)
    _assign(engagement, ENGAGEMENT_FIELDS, fields)
    engagement.full_clean()
    changes = _diff(before, _snapshot(engagement, ENGAGEMENT_FIELDS))
    if "phase" in changes:
        _record_phase(engagement, from_phase=before["phase"][0], by=by)
        event_record(
            "engagement.phase_changed",
            phase_changed_data(engagement, previous_phase=before["phase"][0]),
        )
    engagement.save()
    if changes:
        action = AuditAction.PHASE_CHANGED if set(changes) == {"phase"} else AuditAction.UPDATED
        _audit(
            client=engagement.client,
            by=by,
            action=action,
            subject=str(engagement),
            engagement=engagement,
            changes=changes,
        )
    return engagement


@transaction.atomic
def engagement_delete(*, engagement: Engagement, by: User | None) -> None:
    """Delete an engagement that nothing else stands on. One with assessments or education
    actions is refused (ValidationError): they are the client's history."""
    _audit(
        client=engagement.client,
        by=by,
        action=AuditAction.DELETED,
        subject=str(engagement),
        changes={},
    )
    try:
        engagement.delete()
    except models.ProtectedError as error:
        raise ValidationError(
            _(
                "This engagement has assessments or education actions, which are the "
                "client's history: it cannot be deleted. Move it to its last phase instead."
            ),
            code="protected",
        ) from error


# --- Stakeholders, past experiences, timeline -----------------------------------------------


def _create_child[M: models.Model](model: type[M], allowed: tuple[str, ...], **fields: Any) -> M:
    instance = model()
    _assign(instance, ("client", *allowed), fields)
    instance.full_clean()
    instance.save()
    return instance


def _update_child[M: models.Model](instance: M, allowed: tuple[str, ...], **fields: Any) -> M:
    _assign(instance, allowed, fields)
    instance.full_clean()
    instance.save()
    return instance


def stakeholder_create(*, client: Client, by: User | None, **fields: Any) -> Stakeholder:
    return _create_child(Stakeholder, STAKEHOLDER_FIELDS, client=client, **fields)


def stakeholder_update(*, stakeholder: Stakeholder, by: User | None, **fields: Any) -> Stakeholder:
    return _update_child(stakeholder, STAKEHOLDER_FIELDS, **fields)


def stakeholder_delete(*, stakeholder: Stakeholder, by: User | None) -> None:
    stakeholder.delete()


def past_experience_create(*, client: Client, by: User | None, **fields: Any) -> PastExperience:
    return _create_child(PastExperience, PAST_EXPERIENCE_FIELDS, client=client, **fields)


def past_experience_update(
    *, experience: PastExperience, by: User | None, **fields: Any
) -> PastExperience:
    return _update_child(experience, PAST_EXPERIENCE_FIELDS, **fields)


def past_experience_delete(*, experience: PastExperience, by: User | None) -> None:
    experience.delete()


def timeline_entry_create(*, client: Client, by: User, **fields: Any) -> TimelineEntry:
    return _create_child(
        TimelineEntry, (*TIMELINE_FIELDS, "author"), client=client, author=by, **fields
    )


def timeline_entry_may_change(*, entry: TimelineEntry, user: User | None) -> bool:
    """The timeline is a shared record: only an entry's author, a director or an
    administrator may change or delete it; the rest of the team reads it."""
    if user is None:
        return False
    return entry.author_id == user.pk or user.sees_whole_portfolio


def _check_may_change(entry: TimelineEntry, by: User | None) -> None:
    if not timeline_entry_may_change(entry=entry, user=by):
        raise PermissionDenied(_("Only the author or a director may change this entry."))


def timeline_entry_update(*, entry: TimelineEntry, by: User | None, **fields: Any) -> TimelineEntry:
    _check_may_change(entry, by)
    return _update_child(entry, TIMELINE_FIELDS, **fields)


def timeline_entry_delete(*, entry: TimelineEntry, by: User | None) -> None:
    _check_may_change(entry, by)
    entry.delete()


@transaction.atomic
def stakeholder_erase(*, stakeholder: Stakeholder, by: User, request: Any = None) -> int:
    """Erase a stakeholder's personal data (LGPD art. 18, GDPR art. 17): the row keeps
    only what describes the relationship, not the person (influence, stance), and their
    name, e-mail and phone are replaced with "[erased]" wherever the client's free text
    mentions them (core.privacy's places: timeline, notes, evidence, actions…). Recorded in
    the security log by id only. Returns the rows of free text changed."""
    needles = [stakeholder.name, stakeholder.email, stakeholder.phone]
    redacted = redact_mentions(stakeholder.client_id, needles)
    Stakeholder.objects.filter(pk=stakeholder.pk).update(
        name=ERASED, role="", email="", phone="", notes=""
    )
    security_event_record(
        kind=SecurityEventKind.ERASURE,
        request=request,
        user=by,
        stakeholder=stakeholder.pk,
        client=stakeholder.client_id,
        rows_redacted=redacted,
    )
    stakeholder.refresh_from_db()
    return redacted
