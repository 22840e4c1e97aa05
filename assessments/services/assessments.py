"""The assessment life cycle: start (or resume), save answers, submit (score and
snapshot), review (approve or return).

Each write locks the assessment row first, so saves, submits and reviews of one
assessment happen one after the other, and runs a fixed number of queries whatever the
number of answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, NamedTuple, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import DIRECTORS, user_has_role
from accounts.models import User
from assessments import question_types
from assessments.events import assessment_data
from assessments.models import (
    EDITABLE_STATUSES,
    Answer,
    Assessment,
    AssessmentStatus,
    AssessmentTransition,
    DimensionResult,
    Question,
    QuestionnaireVersion,
    VersionStatus,
)
from assessments.scoring import (
    DEFAULT_POLICY,
    NOT_APPLICABLE,
    Evidence,
    Result,
    score,
    stored_dimensions,
)
from assessments.selectors import (
    assessments_visible_to,
    default_version,
    default_version_sql,
    questions_by_id,
    structure_for_version,
    with_questions,
)
from assessments.signals import (
    RIDER_COLUMNS,
    Rider,
    assessment_reviewed,
    assessment_submitted,
    riders_params,
    riders_ridden,
    riders_sql,
    submit_riders,
)
from clients.models import Engagement, PastExperience
from clients.selectors import (
    VISIBLE_ENGAGEMENT_ID,
    Audience,
    audience_of,
    engagement_visible,
    stand_in_for,
)
from clients.services import ENGAGEMENT_CLIENT, ENGAGEMENT_HELD, engagement_hold
from core.sql import Columns, Reused, as_columns, holds_a_key, one_line, prepared_cursor
from webhooks.services import (
    RECORD_COUNT,
    RECORD_CTES,
    event_record,
    events_recorded,
    record_params,
)

MAX_TEXT = question_types.MAX_TEXT  # an answer's text and an evidence note
RESULT_FIELDS = (
    "maturity_score",
    "maturity_level",
    "defensiveness_index",
    "questionnaire_defensiveness",
    "quadrant",
    "completeness",
    "result",
)


class AssessmentNotEditable(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            _("This assessment has been submitted and can no longer be changed."),
            code="not_editable",
        )


class MissingAnswers(ValidationError):
    """Submit refused: required questions are unanswered (first one first)."""

    def __init__(self, questions: list[Question]) -> None:
        super().__init__(
            _("%(count)d required question(s) are not answered yet.") % {"count": len(questions)},
            code="missing_answers",
        )
        self.questions = questions


def lock_for_write(
    assessment: Assessment, *, in_sight_of: User | None = None, holding_engagement: bool = False
) -> Assessment:
    """The assessment's row, read again and locked until the transaction ends. Its version
    and engagement never change under it: those the caller already read are kept (read
    now only when it had not), so the lock is one row's lookup — a submit's first
    statement, and once joined to three tables the costliest to prepare and plan.

    ``in_sight_of``: the user whose sight the assessment must be in, when ``assessment``
    (then only its id) has not been looked up through assessments_visible_to yet — the
    API's case: the lock is the access check too, one statement instead of two, and one
    out of sight raises ``Assessment.DoesNotExist`` like one that does not exist. Both
    locks are compiled once (core.sql.Reused): the ORM took longer to write the
    statement than PostgreSQL to run it.

    ``holding_engagement``: the assessment's engagement is locked too, and its client
    shared, in the same statement (_held_sql) — what the standing's refresh locks
    (dashboards.standings), so a write that changes the standing (a submit, a review)
    holds it from its start and the refresh needs no lock of its own: one statement
    fewer. The rows are locked in the refresh's order: assessment, engagement, client."""
    if holding_engagement:
        return _locked_holding_engagement(assessment, in_sight_of)
    if in_sight_of is not None:
        rows = _LOCKED_IN_SIGHT.rows(
            audience_of(in_sight_of), user=in_sight_of.pk, assessment=assessment.pk
        )
        if not rows:
            raise Assessment.DoesNotExist
        return _with_relations(rows[0], raw=False)
    rows = _LOCKED.rows(None, assessment=assessment.pk)
    if not rows:
        raise Assessment.DoesNotExist
    locked = _ASSESSMENT.of(rows[0])
    for field in (_VERSION_OF, _ENGAGEMENT_OF):
        if field.is_cached(assessment):
            field.set_cached_value(locked, field.get_cached_value(assessment))
    return locked


_ASSESSMENT, _VERSION, _ENGAGEMENT = (
    Columns(Assessment),
    Columns(QuestionnaireVersion),
    Columns(Engagement),
)
_VERSION_OF, _ENGAGEMENT_OF = Assessment.version.field, Assessment.engagement.field

_LOCKED = Reused(
    lambda _shape, assessment: (
        Assessment.objects.filter(pk=assessment)
        .order_by()
        .select_for_update()
        .values_list(*_ASSESSMENT.names())
    ),
    "assessment",
)
_LOCKED_IN_SIGHT = Reused(
    lambda audience, user, assessment: (
        assessments_visible_to(stand_in_for(audience, user))
        .filter(pk=assessment)
        .order_by()
        .select_for_update(of=("self",))
        .values_list(
            *_ASSESSMENT.names(), *_VERSION.names("version__"), *_ENGAGEMENT.names("engagement__")
        )
    ),
    "user",
    "assessment",
)


# lock_for_write's ``holding_engagement``: the assessment with its version and engagement,
# each of the three rows locked as its writer locks it (the engagement and its client as
# dashboards.standings' refresh does), in one prepared statement per kind of user. The
# assessment FOR NO KEY UPDATE: against every writer of it, but not against a row that
# refers to it being written meanwhile (an education action of a round that holds the
# engagement, which would otherwise wait for this submit as it waits for that round).
def _held_sql(visible: str | None) -> str:
    assessment, version, engagement = (
        model._meta.db_table for model in (Assessment, QuestionnaireVersion, Engagement)
    )
    return one_line(
        f"""
        SELECT {_ASSESSMENT.select("a")}, {_VERSION.select("v")}, {_ENGAGEMENT.select("e")}
          FROM {assessment} a
          JOIN {version} v ON v.id = a.version_id
          JOIN {engagement} e ON e.id = a.engagement_id
          {ENGAGEMENT_CLIENT}
         WHERE a.id = %s{f" AND a.id IN ({visible})" if visible else ""}
           FOR NO KEY UPDATE OF a {ENGAGEMENT_HELD}
        """
    )


_HELD_SQL = _held_sql(None)


@cache
def _held_in_sight_sql(audience: Audience) -> str:
    return _held_sql(VISIBLE_ASSESSMENT.text(audience))


def _locked_holding_engagement(assessment: Assessment, in_sight_of: User | None) -> Assessment:
    """lock_for_write holding the engagement (see there)."""
    if connection.vendor != "postgresql":
        # The assessment locked as usual, then the engagement and its client as the
        # standing's refresh locks them (SQLite serialises writers anyway).
        locked = lock_for_write(assessment, in_sight_of=in_sight_of)
        engagement_hold(locked.engagement_id)
        return locked
    if connection.get_autocommit():
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    audience = audience_of(in_sight_of) if in_sight_of is not None else None
    if audience is Audience.NO_ONE or not holds_a_key(assessment.pk):
        raise Assessment.DoesNotExist
    with prepared_cursor() as cursor:
        if in_sight_of is None or audience is None:
            cursor.execute(_HELD_SQL, [assessment.pk])
        else:
            visible = VISIBLE_ASSESSMENT.params(
                audience, user=in_sight_of.pk, assessment=assessment.pk
            )
            cursor.execute(_held_in_sight_sql(audience), [assessment.pk, *visible])
        row = cursor.fetchone()
    if row is None:
        raise Assessment.DoesNotExist
    return _with_relations(row, raw=True)


def _with_relations(row: Sequence[Any], *, raw: bool) -> Assessment:
    """The assessment with its version and engagement, from one row of their columns in
    that order: as a hand-written statement selects them (``raw``: Columns.load), or as
    values_list gives them (Columns.of)."""
    made: list[Any] = []
    start = 0
    for columns in (_ASSESSMENT, _VERSION, _ENGAGEMENT):
        values = row[start : start + columns.width]
        made.append(columns.load(values) if raw else columns.of(values))
        start += columns.width
    locked, version, engagement = made
    _VERSION_OF.set_cached_value(locked, version)
    _ENGAGEMENT_OF.set_cached_value(locked, engagement)
    return cast(Assessment, locked)


# The scoping rule as a subquery of the assessment ids in sight (``id IN (…)``), compiled
# by the ORM (assessments_visible_to) once per kind of user and run with each call's ids:
# compiling it costs about 1 ms, five times the statement it goes into.
VISIBLE_ASSESSMENT = Reused(
    lambda audience, user, assessment: (
        assessments_visible_to(stand_in_for(audience, user))
        .filter(pk=assessment)
        .order_by()
        .values_list("pk")
    ),
    "user",
    "assessment",
)


def _transition(
    assessment: Assessment, *, to: str, by: User | None, comment: str = ""
) -> AssessmentTransition:
    step = AssessmentTransition.objects.create(
        assessment=assessment, from_status=assessment.status, to_status=to, by=by, comment=comment
    )
    assessment.status = to
    return step


def may_edit(assessment: Assessment, user: User | None) -> bool:
    """The assessor fills their assessment; directors may correct it. The rest of the team
    reads it."""
    return user is not None and (
        assessment.assessor_id == user.pk or user_has_role(user, DIRECTORS)
    )


# --- Start --------------------------------------------------------------------------------


def version_to_start(version: QuestionnaireVersion | None) -> QuestionnaireVersion:
    """The version a new assessment is made on: ``version`` if it is published, by default
    the current version of the default questionnaire."""
    if version is None:
        version = default_version()
        if version is None:
            raise _nothing_published()
    elif version.status != VersionStatus.PUBLISHED:
        raise ValidationError(
            {"questionnaire_version": _("Only a published questionnaire version can be used.")}
        )
    return version


def _nothing_published() -> ValidationError:
    return ValidationError({"questionnaire_version": _("No questionnaire is published yet.")})


def assessment_start(
    *,
    engagement: Engagement,
    by: User,
    version: QuestionnaireVersion | None = None,
    in_sight_of: User | None = None,
) -> tuple[Assessment, bool]:
    """A new draft for ``engagement`` on ``version`` (default: the current version of the
    default questionnaire) — or the assessor's open one for it, which is resumed instead.
    Returns (assessment, created); a new draft comes with its history known
    (:func:`as_written`).

    ``in_sight_of``: the user whose sight the engagement must be in, when ``engagement``
    (then perhaps only its id) has not been looked up through the clients' scoping rule —
    the API's create: on PostgreSQL the insert's statement checks it too, one statement
    instead of two. One out of sight raises ``Engagement.DoesNotExist``."""
    if connection.vendor == "postgresql":
        return _start_in_one_statement(engagement, by, version, in_sight_of)
    if in_sight_of is not None:
        engagement = _engagement_seen(engagement.pk, in_sight_of)
    try:
        version = version_to_start(version)
    except ValidationError as refused:
        return _resumed(engagement, by, refused, None)
    open_one = _open_assessment(engagement, by)
    if open_one is not None:
        return open_one, False
    try:
        with transaction.atomic():
            assessment = Assessment.objects.create(
                engagement=engagement, version=version, assessor=by
            )
            started = AssessmentTransition.objects.create(
                assessment=assessment, from_status="", to_status=AssessmentStatus.DRAFT, by=by
            )
    except IntegrityError:
        # Started twice at once (two tabs): both get the same draft.
        return cast(Assessment, _open_assessment(engagement, by)), False
    return as_written(assessment, answers=[], transitions=[started], dimension_results=[]), True


def _start_in_one_statement(
    engagement: Engagement,
    by: User,
    version: QuestionnaireVersion | None,
    in_sight_of: User | None,
) -> tuple[Assessment, bool]:
    """assessment_start on PostgreSQL: the draft and its first step in one statement,
    which reads the default version too when none is named, and checks the engagement
    is in sight when asked."""
    if version is not None:
        try:
            version = version_to_start(version)
        except ValidationError as refused:
            return _resumed(engagement, by, refused, in_sight_of)
    for _attempt in range(3):
        # (Each attempt reads the default version again: the one the last read may have
        # been retired since.)
        try:
            draft = _insert_draft(engagement, version, by, in_sight_of)
        except ValidationError as refused:
            return _resumed(engagement, by, refused, None)  # (in sight: the insert said)
        if draft is not None:
            return draft, True
        open_one = _open_assessment(engagement, by)
        if open_one is not None:
            return open_one, False
        # The open one was submitted between the two statements: try again.
    raise ValidationError(
        _("The assessment could not be started just now; try again."), code="busy"
    )


def _resumed(
    engagement: Engagement, by: User, refused: ValidationError, in_sight_of: User | None
) -> tuple[Assessment, bool]:
    """The assessor's open assessment of ``engagement``, resumed whatever version was
    asked for; without one, ``refused`` is raised. Out of ``in_sight_of``'s sight,
    ``Engagement.DoesNotExist``."""
    if in_sight_of is not None:
        engagement = _engagement_seen(engagement.pk, in_sight_of)
    open_one = _open_assessment(engagement, by)
    if open_one is None:
        raise refused
    return open_one, False


def sheet_start(
    *, engagement: Engagement, rater: User, version: QuestionnaireVersion
) -> Assessment:
    """A rater's own sheet of ``engagement`` on ``version``, for a round with several
    raters: filled like an assessment, seen by the rater alone, handed in (``submit``)
    rather than submitted. Refused while the rater has another open assessment of it."""
    try:
        with transaction.atomic():
            sheet = Assessment.objects.create(
                engagement=engagement, version=version, assessor=rater, rater_sheet=True
            )
            AssessmentTransition.objects.create(
                assessment=sheet, from_status="", to_status=AssessmentStatus.DRAFT, by=rater
            )
    except IntegrityError:
        raise ValidationError(
            {
                "user": _(
                    "%(name)s has an assessment of this engagement open: it must be "
                    "submitted or handed in first."
                )
                % {"name": rater.get_full_name() or rater.username}
            },
            code="open_assessment",
        ) from None
    return sheet


def _hand_in(assessment: Assessment, *, by: User, shown: bool = False) -> Assessment:
    """A rater's sheet, locked and complete, is scored for the rater and handed in to its
    round: no review, education plan, standing or event follows (the reconciled
    assessment brings them)."""
    if assessment.assessor_id != by.pk:
        raise PermissionDenied(_("Only the rater hands in their own sheet."))
    questions = questions_by_id(assessment.version)
    reading = _submit_reading(assessment, shown=shown)
    rows = score_into(
        assessment, questions=questions, answers=reading.values, experiences=reading.experiences
    )
    assessment.submitted_at = timezone.now()
    results, step = _store_result(
        assessment, to=AssessmentStatus.HANDED_IN, by=by, questions=questions, rows=rows
    )
    return _as_submitted(assessment, reading, step, questions, results, shown=shown)


def _as_submitted(
    assessment: Assessment,
    reading: SubmitReading,
    step: AssessmentTransition,
    questions: dict[int, Question],
    results: list[DimensionResult],
    *,
    shown: bool,
) -> Assessment:
    """The scored ``assessment`` as written, with its dimension rows — and, when it is
    ``shown``, its answers and history as the submit read them, its new ``step`` last."""
    if not shown:
        return as_written(assessment, dimension_results=results)
    answers, history = reading.shown(questions)
    return as_written(
        assessment, answers=answers, transitions=[*history, step], dimension_results=results
    )


def _store_result(
    assessment: Assessment,
    *,
    to: str,
    by: User,
    questions: dict[int, Question],
    rows: list[DimensionRow],
    replacing: bool = False,
) -> tuple[list[DimensionResult], AssessmentTransition]:
    """Through the ORM: the scored assessment in its new status, its step in the history
    and its dimension rows (``replacing`` those of an earlier submit). Returns the rows
    and the step."""
    step = _transition(assessment, to=to, by=by)
    assessment.save(update_fields=[*RESULT_FIELDS, "status", "submitted_at", "updated_at"])
    if replacing:
        DimensionResult.objects.filter(assessment=assessment).delete()
    results = dimension_results_of(assessment, questions, rows)
    DimensionResult.objects.bulk_create(results)
    return results, step


def _open_assessment(engagement: Engagement, by: User) -> Assessment | None:
    """The assessor's open assessment of ``engagement``, with it. ``engagement`` may be
    an id alone (an API create's, whose sight its insert checked): then it is read with
    the assessment, since showing it needs its client."""
    read = engagement.client_id is not None  # (every engagement stored has its client)
    rows = Assessment.objects.filter(
        engagement=engagement, assessor=by, status__in=EDITABLE_STATUSES
    )
    open_one = (rows if read else rows.select_related("engagement")).first()
    if open_one is not None and read:
        open_one.engagement = engagement
    return open_one


_EDITABLE = tuple(str(status) for status in EDITABLE_STATUSES)


def _draft_sql(version: str, engagement: str) -> str:
    """A draft of the engagement the statement ``engagement`` selects (its id first) on
    the version the statement ``version`` selects (its id first), and its first step,
    unless one is open — the constraint one_open_assessment_per_assessor answers that,
    also for two tabs at once. Its one row: the draft's and the step's ids (NULL when one
    is open), the version's columns (NULL when there is none), then the engagement's; no
    row without an engagement."""
    return one_line(
        f"""
        WITH engagement AS ({engagement}), version AS ({version}), made AS (
            INSERT INTO assessments_assessment
                   (engagement_id, version_id, assessor_id, status, created_at, updated_at,
                    submitted_at, reviewed_at, reviewed_by_id, maturity_score, maturity_level,
                    defensiveness_index, questionnaire_defensiveness, quadrant, completeness,
                    result)
            SELECT engagement.id, version.id, %s, %s, %s, %s, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, '', NULL, NULL
              FROM engagement, version
            ON CONFLICT (engagement_id, assessor_id) WHERE status IN {_EDITABLE} DO NOTHING
         RETURNING id
        ), started AS (
            INSERT INTO assessments_assessmenttransition
                   (assessment_id, from_status, to_status, by_id, at, comment)
            SELECT id, '', %s, %s, %s, '' FROM made
         RETURNING id
        )
        SELECT made.id, started.id, version.*, engagement.*
          FROM engagement LEFT JOIN version ON true LEFT JOIN made ON true
               LEFT JOIN started ON true
        """
    )  # the constraint's condition as constants: PostgreSQL matches its partial index by them


_BY_ID = "SELECT %s::bigint AS id"


@cache
def _draft_statement(on_default: bool, audience: Audience | None) -> str:
    """_draft_sql on the default questionnaire's current version read in the same
    statement (a start that names none: the API's create, as a rule) or on the one named;
    of the engagement named, or of the one named if it is in sight of a user of
    ``audience`` (the clients' scoping rule, compiled once per kind of user). Built once
    per process for each."""
    version = default_version_sql()[0] if on_default else _BY_ID
    if audience is None:
        return _draft_sql(version, _BY_ID)
    in_sight = (
        f"SELECT {_ENGAGEMENT.select('e')} FROM {Engagement._meta.db_table} e"
        f" WHERE {_in_sight(audience)}"
    )
    return _draft_sql(version, in_sight)


# An engagement ``e`` in sight, in a statement written by hand: its condition (the id,
# then the clients' scoping rule compiled once per kind of user) and its parameters.
def _in_sight(audience: Audience) -> str:
    return f"e.id = %s AND e.id IN ({VISIBLE_ENGAGEMENT_ID.text(audience)})"


def _in_sight_params(pk: int, user: User, audience: Audience) -> list[Any]:
    return [pk, *VISIBLE_ENGAGEMENT_ID.params(audience, user=user.pk, engagement=pk)]


def _engagement_seen(pk: int, user: User) -> Engagement:
    """The engagement ``pk`` with its client, if ``user`` may see it; otherwise
    ``Engagement.DoesNotExist``, as for one that does not exist."""
    engagement = engagement_visible(user, pk)
    if engagement is None:
        raise Engagement.DoesNotExist
    return engagement


def _insert_draft(
    engagement: Engagement,
    version: QuestionnaireVersion | None,
    by: User,
    in_sight_of: User | None = None,
) -> Assessment | None:
    """The new draft on ``version`` (None: the default questionnaire's current one), or
    None when one is open. Raises the ValidationError of version_to_start when no
    version is published; ``Engagement.DoesNotExist`` when the engagement is not in
    sight of ``in_sight_of`` (when given; ``engagement`` is then read in the statement)."""
    audience = audience_of(in_sight_of) if in_sight_of is not None else None
    if audience is Audience.NO_ONE or not holds_a_key(engagement.pk):
        raise Engagement.DoesNotExist
    now = timezone.now()
    draft = AssessmentStatus.DRAFT
    params = [
        *(
            [engagement.pk]
            if in_sight_of is None or audience is None
            else _in_sight_params(engagement.pk, in_sight_of, audience)
        ),
        *(default_version_sql()[1] if version is None else [version.pk]),
        *[by.pk, draft, now, now, draft, by.pk, now],
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_draft_statement(version is None, audience), params)
        row = cursor.fetchone()
    if row is None:
        raise Engagement.DoesNotExist
    if row[2] is None:
        raise _nothing_published()
    if row[0] is None:
        return None
    after_version = 2 + (_VERSION.width if version is None else 1)
    if version is None:
        version = cast(QuestionnaireVersion, _VERSION.load(row[2:after_version]))
    if audience is not None:
        engagement = cast(Engagement, _ENGAGEMENT.load(row[after_version:]))
    assessment = Assessment(
        pk=row[0],
        engagement=engagement,
        version=version,
        assessor=by,
        status=draft,
        created_at=now,
        updated_at=now,
    )
    started = AssessmentTransition(
        pk=row[1], assessment=assessment, from_status="", to_status=draft, by=by, at=now
    )
    return as_written(assessment, answers=[], transitions=[started], dimension_results=[])


def as_written(
    assessment: Assessment,
    *,
    answers: Iterable[Answer] | None = None,
    transitions: Iterable[AssessmentTransition] | None = None,
    dimension_results: Iterable[DimensionResult] | None = None,
) -> Assessment:
    """``assessment`` with those of its answers, history and dimension scores that were
    just written known — in their reading order, as a prefetch would have left them — so
    that showing it does not read back what was written (None: not known, left to be
    read). Like a prefetch they are not refreshed by later writes: read the assessment
    again after changing it."""
    known: dict[str, Any] = getattr(assessment, "_prefetched_objects_cache", {})
    for name, rows in (
        ("answers", answers),
        ("transitions", transitions),
        ("dimension_results", dimension_results),
    ):
        if rows is None:
            continue
        queryset = getattr(assessment, name).all()  # filtering it reads the database
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        known[name] = queryset
    assessment._prefetched_objects_cache = known  # type: ignore[attr-defined]
    return assessment


def dimension_results_of(
    assessment: Assessment, questions: dict[int, Question], rows: list[DimensionRow]
) -> list[DimensionResult]:
    """The dimension rows as the models they were written as, in the form's order."""
    dimensions = {q.dimension.pk: q.dimension for q in questions.values()}
    results = [
        DimensionResult(
            assessment=assessment, dimension=dimensions[pk], code=code, kind=kind, score=score
        )
        for pk, code, kind, score in rows
    ]
    return sorted(results, key=lambda r: (r.dimension.position, r.dimension.pk))


# --- Submit -------------------------------------------------------------------------------


ExperienceRow = tuple[int, str, int, str, Any]  # id, supplier, severity, outcome, ended_on


def evidence_from(rows: list[ExperienceRow]) -> list[tuple[Evidence, dict[str, Any]]]:
    """The engine's evidence, and what the snapshot keeps of each past experience."""
    return [
        (
            Evidence(
                key=f"past-experience-{pk}", severity=severity, outcome=outcome, ended_on=ended_on
            ),
            {
                "id": pk,
                "supplier": supplier,
                "severity": severity,
                "outcome": outcome,
                "ended_on": ended_on.isoformat() if ended_on else None,
            },
        )
        for pk, supplier, severity, outcome, ended_on in rows
    ]


def past_experiences(client_id: int) -> list[ExperienceRow]:
    """The client's past experiences as the scoring reads them: still going on (no end)
    first, then the most recent, then the newest row. One prepared statement."""
    return cast(list[ExperienceRow], _PAST_EXPERIENCES.rows(None, client=client_id))


class EngagementReading(NamedTuple):
    """engagement_with_experiences' answer: the engagement, its client's past experiences
    (in the scoring's order) and, when asked for, the default questionnaire's current
    version (None when none is published, or when not asked for)."""

    engagement: Engagement
    experiences: list[ExperienceRow]
    default_version: QuestionnaireVersion | None = None
    new_id: int | None = None  # an assessment id reserved, when asked for


def engagement_with_experiences(
    pk: int,
    *,
    in_sight_of: User,
    with_default_version: bool = False,
    reserving_id: bool = False,
    holding: bool = False,
) -> EngagementReading:
    """The engagement ``pk`` if it is in ``in_sight_of``'s sight, with its client's past
    experiences as past_experiences reads them and, ``with_default_version``, the version
    a new assessment is made on by default — on PostgreSQL in one prepared statement (an
    import's: the engagement's read, the experiences' and the version's were three), which
    also reserves the id of the assessment to come when ``reserving_id`` (an import names
    it in its event, recorded by its insert). Elsewhere the version is left to
    version_to_start, and no id is reserved. ``holding`` (in a transaction): the statement
    also holds the engagement and its client as its standing's refresh would
    (clients.services.ENGAGEMENT_HELD; elsewhere nothing is locked). Raises
    ``Engagement.DoesNotExist`` for one out of sight, like one that does not exist."""
    if holding and not connection.in_atomic_block:
        raise TransactionManagementError("A lock is held only inside a transaction.")
    audience = audience_of(in_sight_of)
    if connection.vendor != "postgresql" or audience is Audience.NO_ONE:
        engagement = _engagement_seen(pk, in_sight_of)
        return EngagementReading(engagement, past_experiences(engagement.client_id))
    if not holds_a_key(pk):
        raise Engagement.DoesNotExist
    params = _in_sight_params(pk, in_sight_of, audience)
    if with_default_version:
        params = [*default_version_sql()[1], *params]  # (its join comes before the WHERE)
    with prepared_cursor() as cursor:
        cursor.execute(
            _with_experiences_sql(audience, with_default_version, reserving_id, holding), params
        )
        rows = cursor.fetchall()
    if not rows:
        raise Engagement.DoesNotExist
    after_engagement = _ENGAGEMENT.width
    after_experience = after_engagement + len(_EXPERIENCE_FIELDS)
    engagement = cast(Engagement, _ENGAGEMENT.load(rows[0][:after_engagement]))
    experiences = [
        cast(ExperienceRow, tuple(row[after_engagement:after_experience]))
        for row in rows
        if row[after_engagement] is not None  # (one row without any: the engagement's)
    ]
    new_id = None
    if reserving_id:
        new_id = int(rows[0][after_experience])
        after_experience += 1
    version = None
    if with_default_version and rows[0][after_experience] is not None:
        version = cast(QuestionnaireVersion, _VERSION.load(rows[0][after_experience:]))
    return EngagementReading(engagement, experiences, version, new_id)


@cache
def _with_experiences_sql(
    audience: Audience,
    with_default_version: bool,
    reserving_id: bool = False,
    holding: bool = False,
) -> str:
    """engagement_with_experiences' statement for one kind of user, with or without the
    reserved id and the default version (on every row: one of each at most), holding the
    engagement or not, built once for each. The id is drawn once, in a materialized CTE,
    however many rows there are; an import that does not happen leaves a gap in the ids,
    as a rolled-back insert does."""
    experience = ", ".join(f"pe.{column}" for column in _EXPERIENCE_FIELDS)
    reserve, reserved, version, version_join = "", "", "", ""
    if reserving_id:
        table = Assessment._meta.db_table
        reserve = (
            "WITH reserved AS MATERIALIZED "
            f"(SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id)"
        )
        reserved = ", reserved.id"
    if with_default_version:
        version = ", dv.*"  # (Columns(QuestionnaireVersion)'s, in its order)
        version_join = f"LEFT JOIN ({default_version_sql()[0]}) dv ON true"
    return one_line(
        f"""
        {reserve}
        SELECT {_ENGAGEMENT.select("e")}, {experience}{reserved}{version}
          FROM {Engagement._meta.db_table} e
          {"CROSS JOIN reserved" if reserving_id else ""}
          {ENGAGEMENT_CLIENT if holding else ""}
          LEFT JOIN {PastExperience._meta.db_table} pe ON pe.client_id = e.client_id
          {version_join}
         WHERE {_in_sight(audience)}
         ORDER BY pe.ended_on DESC NULLS FIRST, pe.id DESC
         {ENGAGEMENT_HELD if holding else ""}
        """
    )


_EXPERIENCE_FIELDS = ("id", "supplier", "severity", "outcome", "ended_on")
_PAST_EXPERIENCES = Reused(
    lambda _shape, client: (
        PastExperience.objects.filter(client_id=client)
        .order_by(F("ended_on").desc(nulls_first=True), "-id")
        .values_list(*_EXPERIENCE_FIELDS)
    ),
    "client",
)


@dataclass(frozen=True)
class SubmitReading:
    """What a submit reads under the assessment's lock: the answers' values (what the
    scoring takes) and the client's past experiences (the scoring's order) — and, when
    the submitted assessment is shown, every answer and the history so far as rows
    (``Columns.load`` makes their instances; ORM instances already elsewhere than
    PostgreSQL), so that showing it needs no read-back."""

    values: dict[int, tuple[Any, bool]]  # question id → (value, not applicable)
    experiences: list[ExperienceRow]
    answer_rows: list[Any]  # none when not shown
    step_rows: list[Any]
    loaded: bool = False  # the rows are instances

    def shown(
        self, questions: dict[int, Question]
    ) -> tuple[list[Answer], list[AssessmentTransition]]:
        """The answers (each with its question from ``questions``, their version's, in
        the form's order) and the history (oldest first), as the detail shows them."""
        answers = self.answer_rows if self.loaded else [_ANSWER.load(r) for r in self.answer_rows]
        history = self.step_rows if self.loaded else [_STEP.load(r) for r in self.step_rows]
        place = {pk: i for i, pk in enumerate(questions)}  # the form's order (FORM_ORDER)
        answers.sort(key=lambda a: (place.get(a.question_id, len(place)), a.question_id))
        return with_questions(answers, questions), sorted(history, key=lambda s: (s.at, s.pk))


_ANSWER, _STEP = Columns(Answer), Columns(AssessmentTransition)
_ANSWER_VALUES = tuple(_ANSWER.index(name) for name in ("question_id", "value", "not_applicable"))

# The answers' values and the past experiences: a submit that is not shown (the
# browser's, which redirects) reads no more.
_VALUES_SQL = one_line(
    """
    SELECT 'a', question_id, value::text, not_applicable, NULL::integer, NULL::text, NULL::date
      FROM assessments_answer WHERE assessment_id = %s
    UNION ALL
    SELECT 'e', id, supplier, NULL::boolean, severity, outcome, ended_on
      FROM clients_pastexperience WHERE client_id = %s
    """
)


@cache
def _rows_sql() -> str:
    """Whole answers, history and past experiences in one statement (a UNION ALL whose
    rows are each part's columns padded with NULLs cast to the other parts' types:
    PostgreSQL resolves a UNION's column types pair by pair, and an untyped NULL beside
    another would become text)."""
    experience_fields = [
        cast(Any, PastExperience._meta.get_field(name)) for name in _EXPERIENCE_FIELDS
    ]

    def nulls(fields: Iterable[Any]) -> str:
        return ", ".join(f"NULL::{field.cast_db_type(connection)}" for field in fields)

    answer_pad = nulls(Answer._meta.concrete_fields)
    step_pad = nulls(AssessmentTransition._meta.concrete_fields)
    experience_pad = nulls(experience_fields)
    experience_columns = ", ".join(f'x."{field.column}"' for field in experience_fields)
    return one_line(
        f"""
        SELECT 'a', {_ANSWER.select("x")}, {step_pad}, {experience_pad}
          FROM assessments_answer x WHERE x.assessment_id = %s
        UNION ALL
        SELECT 't', {answer_pad}, {_STEP.select("x")}, {experience_pad}
          FROM assessments_assessmenttransition x WHERE x.assessment_id = %s
        UNION ALL
        SELECT 'e', {answer_pad}, {step_pad}, {experience_columns}
          FROM clients_pastexperience x WHERE x.client_id = %s
        """
    )


def _submit_reading(assessment: Assessment, *, shown: bool) -> SubmitReading:
    """What a submit reads (SubmitReading) of ``assessment``; the whole answers and
    history too if it is ``shown``. On PostgreSQL in one round trip (a submit's time is
    mostly round trips, see bench/submit.py); elsewhere in two or three ORM queries."""
    client_id = assessment.engagement.client_id
    if connection.vendor != "postgresql":
        answers = list(Answer.objects.filter(assessment=assessment))
        return SubmitReading(
            {a.question_id: (a.value, a.not_applicable) for a in answers},
            past_experiences(client_id),
            answers,
            list(AssessmentTransition.objects.filter(assessment=assessment)) if shown else [],
            loaded=True,
        )
    values: dict[int, tuple[Any, bool]] = {}
    answers, steps, experiences = [], [], []
    with prepared_cursor() as cursor:
        if not shown:
            cursor.execute(_VALUES_SQL, [assessment.pk, client_id])
            for kind, pk, text, not_applicable, severity, outcome, ended_on in cursor:
                if kind == "a":
                    values[pk] = (json.loads(text) if text is not None else None, not_applicable)
                else:
                    experiences.append((pk, text, severity, outcome, ended_on))
        else:
            cursor.execute(_rows_sql(), [assessment.pk, assessment.pk, client_id])
            question, value, not_applicable = (1 + i for i in _ANSWER_VALUES)
            answer_end = 1 + _ANSWER.width
            step_end = answer_end + _STEP.width
            for row in cursor:
                if row[0] == "a":
                    text = row[value]
                    values[row[question]] = (
                        json.loads(text) if text is not None else None,
                        row[not_applicable],
                    )
                    answers.append(row[1:answer_end])
                elif row[0] == "t":
                    steps.append(row[answer_end:step_end])
                else:
                    experiences.append(cast(ExperienceRow, tuple(row[step_end:])))
    # The ORM path's order: still going on (no end) first, then most recent, then newest id.
    experiences.sort(key=lambda row: (row[4] is None, row[4] or date.min, row[0]), reverse=True)
    return SubmitReading(values, experiences, answers, steps)


def result_snapshot(
    result: Result, evidence: list[tuple[Evidence, dict[str, Any]]], dimension_names: dict[str, Any]
) -> dict[str, Any]:
    """The stored form of a result: everything the result page and the API show, so an
    old result never depends on data that may change later."""
    details = {item.key: data for item, data in evidence}
    return {
        "maturity_score": result.maturity_score,
        "maturity_level": result.maturity_level,
        "questionnaire_defensiveness": result.questionnaire_defensiveness,
        "defensiveness_index": result.defensiveness_index,
        "evidence_strength": result.evidence_strength,
        "quadrant": result.quadrant.value if result.quadrant else None,
        "completeness": result.completeness,
        "weakest": list(result.weakest),
        "policy": {
            "half_life_years": DEFAULT_POLICY.half_life_years,
            "blend": DEFAULT_POLICY.blend,
        },
        "dimensions": [
            {**d, "name": dimension_names.get(d["code"], {})} for d in stored_dimensions(result)
        ],
        "evidence": [
            {**details[e.key], "strength": e.strength, "decay": e.decay, "points": e.points}
            for e in result.evidence
        ],
    }


DimensionRow = tuple[int, str, str, float | None]  # dimension id, code, kind, score


def score_into(
    assessment: Assessment,
    *,
    questions: dict[int, Question],
    answers: dict[int, tuple[Any, bool]],
    experiences: list[ExperienceRow],
) -> list[DimensionRow]:
    """Score ``answers`` (question id → (value, not applicable)) of ``questions`` (the
    assessment's version's) with the client's past ``experiences``, and set the result on
    ``assessment`` (not saved). Returns the dimension rows to store. Raises MissingAnswers
    (first question first) when a required question is unanswered."""
    missing = [
        q
        for q in questions.values()
        if q.required and not ((a := answers.get(q.pk)) is not None and Answer.counts(*a))
    ]
    if missing:
        raise MissingAnswers(sorted(missing, key=lambda q: (q.dimension.position, q.position)))
    by_code = {
        questions[qid].code: (NOT_APPLICABLE if not_applicable else value)
        for qid, (value, not_applicable) in answers.items()
        if qid in questions
    }
    evidence = evidence_from(experiences)
    result = score(
        structure_for_version(assessment.version),
        by_code,
        [item for item, _ in evidence],
        today=timezone.localdate(),
    )
    dimensions = {q.dimension.code: q.dimension for q in questions.values()}
    snapshot = result_snapshot(result, evidence, {code: d.name for code, d in dimensions.items()})
    assessment.maturity_score = result.maturity_score
    assessment.maturity_level = result.maturity_level
    assessment.defensiveness_index = result.defensiveness_index
    assessment.questionnaire_defensiveness = result.questionnaire_defensiveness
    assessment.quadrant = result.quadrant.value if result.quadrant else ""
    assessment.completeness = result.completeness
    assessment.result = snapshot
    return [
        (dimensions[d.code].pk, d.code, d.kind, d.score)
        for d in result.dimensions
        if d.code in dimensions
    ]


@transaction.atomic
def assessment_submit(
    *, assessment: Assessment, by: User, in_sight_of: User | None = None, shown: bool = False
) -> Assessment:
    """Check required answers, score, store the result snapshot, make it read-only.
    ``in_sight_of``: see lock_for_write. ``shown``: the caller shows the submitted
    assessment's answers and history (the API's response), so they come back as the
    submit read them under its lock instead of being read again.

    Idempotent: submitting an assessment that is already submitted (or approved) returns
    it as it is. A client whose first submit committed but whose answer never arrived (a
    dropped connection, a proxy's timeout) retries and gets the result, not an error.

    A rater's sheet is handed in to its round instead (see ``_hand_in``)."""
    assessment = lock_for_write(assessment, in_sight_of=in_sight_of, holding_engagement=True)
    if not may_edit(assessment, by):
        raise PermissionDenied(_("Only the assessor or a director can submit this assessment."))
    if assessment.status in (
        AssessmentStatus.SUBMITTED,
        AssessmentStatus.APPROVED,
        AssessmentStatus.HANDED_IN,
    ):
        return assessment
    if not assessment.is_editable:
        raise AssessmentNotEditable()
    if assessment.rater_sheet:
        return _hand_in(assessment, by=by, shown=shown)
    questions = questions_by_id(assessment.version)
    reading = _submit_reading(assessment, shown=shown)
    rows = score_into(
        assessment, questions=questions, answers=reading.values, experiences=reading.experiences
    )
    resubmission = assessment.submitted_at is not None
    assessment.submitted_at = timezone.now()
    if connection.vendor == "postgresql" and not resubmission and SINGLE_STATEMENT_SUBMIT:
        # Its event and the riders' rows too.
        step, ridden = _store_in_one_statement(assessment, by=by, rows=rows)
        assessment_submitted.send(
            sender=Assessment, assessment=assessment, by=by, engagement_held=True, ridden=ridden
        )
        results = dimension_results_of(assessment, questions, rows)
        return _as_submitted(assessment, reading, step, questions, results, shown=shown)
    # After a return, the first submit's dimension rows are replaced.
    results, step = _store_result(
        assessment,
        to=AssessmentStatus.SUBMITTED,
        by=by,
        questions=questions,
        rows=rows,
        replacing=resubmission,
    )
    assessment_submitted.send(sender=Assessment, assessment=assessment, by=by, engagement_held=True)
    event_record("assessment.submitted", assessment_data(assessment))
    return _as_submitted(assessment, reading, step, questions, results, shown=shown)


# On PostgreSQL a first submit writes the result, the transition, the dimension rows, its
# webhook event and the riders' rows in one statement (data-modifying CTEs): one round
# trip instead of six, which is most of a submit's time. Other databases, and
# resubmissions, take the ORM path above; tests run both and compare what they store.
SINGLE_STATEMENT_SUBMIT = True


def dimension_rows_cte(made: str) -> str:
    """A statement's CTE that writes the dimension rows (four arrays of parameters, as
    ``as_columns(rows, 4)`` makes them) of the assessment whose id the CTE ``made``
    returns: a first submit's, an import's."""
    return f"""dimensions AS (
        INSERT INTO assessments_dimensionresult (assessment_id, dimension_id, code, kind, score)
        SELECT {made}.id, d.dimension_id, d.code, d.kind, d.score
          FROM {made},
               unnest(%s::bigint[], %s::text[], %s::text[], %s::double precision[])
                 AS d (dimension_id, code, kind, score)
     RETURNING assessment_id, code, score
    )"""


# The statement's text never changes (the dimension rows arrive as four arrays), so
# psycopg parses it once per process instead of on every submit (core.sql.one_line): a
# VALUES list of four placeholders a row made each submit's text new, and its 55
# parameters too many to cache. It is prepared (core.sql.prepared_cursor): PostgreSQL
# plans it once per connection, not on every submit. It carries the registered riders
# (assessments.signals.Rider: the education plan's row, the engagement's standing) after
# its own CTEs.
_STORE_RESULT = """
    WITH updated AS (
        UPDATE assessments_assessment
           SET maturity_score = %s, maturity_level = %s, defensiveness_index = %s,
               questionnaire_defensiveness = %s, quadrant = %s, completeness = %s,
               result = %s::jsonb, status = %s, submitted_at = %s, updated_at = %s
         WHERE id = %s
     RETURNING {returning}
    ), transition AS (
        INSERT INTO assessments_assessmenttransition
               (assessment_id, from_status, to_status, by_id, at, comment)
        SELECT id, %s::varchar, %s::varchar, %s::bigint, %s::timestamptz, '' FROM updated
     RETURNING id
    ), {dimensions}, {events}{riders}
    SELECT (SELECT id FROM transition), {deliveries}{ridden}
"""


@cache
def _store_result_sql(riders: tuple[Rider, ...]) -> str:
    """The store's statement carrying ``riders`` (submit_riders()), built once for them."""
    ctes, values = riders_sql(riders, "updated", "dimensions")
    return one_line(
        _STORE_RESULT.format(
            returning=", ".join(RIDER_COLUMNS),
            dimensions=dimension_rows_cte("updated"),
            events=RECORD_CTES,
            deliveries=RECORD_COUNT,
            riders=ctes,
            ridden=values,
        )
    )


def _store_in_one_statement(
    assessment: Assessment, *, by: User, rows: list[DimensionRow]
) -> tuple[AssessmentTransition, dict[str, Any]]:
    """_store_result_sql for ``assessment``, scored, with its ``assessment.submitted``
    event and the riders' rows; returns its step in the history and what the riders
    returned (assessment_submitted's ``ridden``)."""
    riders = submit_riders()
    now = timezone.now()
    from_status, assessment.status = assessment.status, AssessmentStatus.SUBMITTED
    event = ("assessment.submitted", assessment_data(assessment))
    dimension_ids, codes, kinds, scores = as_columns(rows, 4)
    params: list[Any] = [
        assessment.maturity_score,
        assessment.maturity_level,
        assessment.defensiveness_index,
        assessment.questionnaire_defensiveness,
        assessment.quadrant,
        assessment.completeness,
        json.dumps(assessment.result),
        AssessmentStatus.SUBMITTED,
        assessment.submitted_at,
        now,
        assessment.pk,
        from_status,
        AssessmentStatus.SUBMITTED,
        by.pk,
        now,
        dimension_ids,
        codes,
        kinds,
        scores,
        *record_params([event], now),
        *riders_params(riders, assessment),
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_store_result_sql(riders), params)
        step_id, deliveries, *values = cursor.fetchone()
    events_recorded(deliveries)
    step = AssessmentTransition(
        pk=step_id,
        assessment=assessment,
        from_status=from_status,
        to_status=AssessmentStatus.SUBMITTED,
        by=by,
        at=now,
        comment="",
    )
    step._state.adding = False  # a saved row, as the ORM would have left it
    return step, riders_ridden(riders, values)


# --- Review -------------------------------------------------------------------------------


@transaction.atomic
def assessment_review(
    *,
    assessment: Assessment,
    by: User,
    approve: bool,
    comment: str = "",
    in_sight_of: User | None = None,
) -> Assessment:
    """A director approves a submitted assessment, or returns it for correction (with a
    comment saying what to correct). ``in_sight_of``: see lock_for_write."""
    if not user_has_role(by, DIRECTORS):
        raise PermissionDenied(_("Only directors review assessments."))
    assessment = lock_for_write(assessment, in_sight_of=in_sight_of, holding_engagement=True)
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise ValidationError(
            _("Only a submitted assessment can be reviewed."), code="not_submitted"
        )
    comment = comment.strip()
    if "\x00" in comment:
        raise ValidationError({"comment": _("Remove the invisible control character (NUL).")})
    if not approve and not comment:
        raise ValidationError({"comment": _("Say what should be corrected.")})
    if len(comment) > 5000:
        raise ValidationError({"comment": _("Keep the comment under 5000 characters.")})
    _transition(
        assessment,
        to=AssessmentStatus.APPROVED if approve else AssessmentStatus.RETURNED,
        by=by,
        comment=comment,
    )
    assessment.reviewed_at = timezone.now()
    assessment.reviewed_by = by
    try:
        with transaction.atomic():
            assessment.save(update_fields=["status", "reviewed_at", "reviewed_by", "updated_at"])
    except IntegrityError:
        # Returned, it would be a second open assessment of the engagement for its assessor
        # (one_open_assessment_per_assessor): an import, say, beside their draft.
        raise ValidationError(
            _(
                "The assessor already has an open assessment of this engagement: it must be "
                "submitted before this one can be returned."
            ),
            code="open_assessment",
        ) from None
    assessment_reviewed.send(
        sender=Assessment, assessment=assessment, by=by, approved=approve, engagement_held=True
    )
    event_record(
        "assessment.approved" if approve else "assessment.returned", assessment_data(assessment)
    )
    return assessment
