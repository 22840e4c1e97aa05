"""The assessment life cycle in the services: start/resume, answers with stale-write
refusal, submit with required checks and a stored snapshot, review."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import (
    Answer,
    AssessmentStatus,
    AssessmentTransition,
    DimensionResult,
)
from assessments.selectors import questions_by_id, structure_for_version
from assessments.services import (
    AnswerInput,
    AnswersRefused,
    AssessmentNotEditable,
    MissingAnswers,
    answers_save,
    assessment_review,
    assessment_start,
    assessment_submit,
)
from clients.models import PastExperience
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    DirectorFactory,
    EngagementFactory,
    answer_everything,
    bad_experiences,
    published_default_version,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return AccountManagerFactory()


@pytest.fixture
def engagement(manager):
    return EngagementFactory(client=ClientFactory(owner=manager))


@pytest.fixture
def assessment(engagement, manager):
    return assessment_start(engagement=engagement, by=manager)[0]


def question(assessment, type_: str, **filters):
    return next(
        q
        for q in questions_by_id(assessment.version).values()
        if q.type == type_ and all(getattr(q, k) == v for k, v in filters.items())
    )


def test_starting_binds_the_current_default_version_and_resumes_an_open_draft(engagement, manager):
    first, created = assessment_start(engagement=engagement, by=manager)
    assert created
    assert first.version == published_default_version()
    again, created = assessment_start(engagement=engagement, by=manager)
    assert (again, created) == (first, False)
    assert AssessmentTransition.objects.filter(assessment=first).count() == 1


def test_answers_save_and_a_stale_write_is_refused_with_the_current_value(assessment, manager):
    scale = question(assessment, "scale")
    [saved] = answers_save(assessment=assessment, by=manager, answers=[AnswerInput(scale.pk, 3)])
    assert saved.revision == 1
    answers_save(assessment=assessment, by=manager, answers=[AnswerInput(scale.pk, 4, revision=1)])
    with pytest.raises(AnswersRefused) as refused:
        # A second tab still at revision 1.
        answers_save(
            assessment=assessment, by=manager, answers=[AnswerInput(scale.pk, 2, revision=1)]
        )
    [problem] = refused.value.problems
    assert problem.code == "stale"
    assert problem.current["value"] == 4
    assert problem.current["revision"] == 2
    assert Answer.objects.get(question=scale).value == 4


def test_changing_an_answer_without_its_revision_is_refused(assessment, manager):
    scale = question(assessment, "scale")
    answers_save(assessment=assessment, by=manager, answers=[AnswerInput(scale.pk, 3)])
    with pytest.raises(AnswersRefused):
        answers_save(assessment=assessment, by=manager, answers=[AnswerInput(scale.pk, 5)])


def test_one_bad_answer_stores_nothing_of_the_request(assessment, manager):
    scale = question(assessment, "scale")
    choice = question(assessment, "choice")
    with pytest.raises(AnswersRefused) as refused:
        answers_save(
            assessment=assessment,
            by=manager,
            answers=[
                AnswerInput(scale.pk, 3),
                AnswerInput(choice.pk, "nope"),
                AnswerInput(999_999, 1),
            ],
        )
    assert [(p.index, p.code) for p in refused.value.problems] == [
        (1, "invalid"),
        (2, "unknown_question"),
    ]
    assert not Answer.objects.exists()


def test_not_applicable_needs_permission_and_a_reason(assessment, manager):
    allowed = question(assessment, "scale", allow_na=True)
    forbidden = question(assessment, "scale", allow_na=False)
    with pytest.raises(AnswersRefused) as refused:
        answers_save(
            assessment=assessment,
            by=manager,
            answers=[
                AnswerInput(allowed.pk, not_applicable=True),
                AnswerInput(forbidden.pk, not_applicable=True, na_reason="x"),
            ],
        )
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("na_reason", "invalid"),
        ("not_applicable", "invalid"),
    ]
    answers_save(
        assessment=assessment,
        by=manager,
        answers=[AnswerInput(allowed.pk, not_applicable=True, na_reason="Back office only")],
    )
    assert Answer.objects.get(question=allowed).na_reason == "Back office only"


def test_another_manager_cannot_answer(assessment):
    with pytest.raises(PermissionDenied):
        answers_save(
            assessment=assessment,
            by=AccountManagerFactory(),
            answers=[AnswerInput(question(assessment, "scale").pk, 3)],
        )


def test_submit_names_the_missing_required_questions_first_one_first(assessment, manager):
    with pytest.raises(MissingAnswers) as missing:
        assessment_submit(assessment=assessment, by=manager)
    first = missing.value.questions[0]
    assert (first.dimension.position, first.position) == (0, 0)
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT


def test_submit_scores_stores_a_snapshot_and_locks_the_assessment(assessment, manager, engagement):
    PastExperience.objects.create(
        client=engagement.client,
        supplier="Old BPO",
        process_type="collections",
        outcome="failure",
        severity=5,
        ended_on=date(2025, 1, 1),
    )
    answer_everything(assessment, level=4)
    submitted = assessment_submit(assessment=assessment, by=manager)
    assert submitted.status == AssessmentStatus.SUBMITTED
    assert 0 <= submitted.maturity_score <= 100
    assert submitted.maturity_level in range(1, 6)
    assert submitted.quadrant
    assert submitted.result["evidence"][0]["supplier"] == "Old BPO"
    assert submitted.defensiveness_index > submitted.questionnaire_defensiveness
    assert DimensionResult.objects.filter(assessment=submitted).count() == 10
    # The snapshot does not move when the evidence behind it changes later.
    PastExperience.objects.all().delete()
    submitted.refresh_from_db()
    assert submitted.result["evidence"][0]["supplier"] == "Old BPO"
    with pytest.raises(AssessmentNotEditable):
        answers_save(
            assessment=submitted,
            by=manager,
            answers=[AnswerInput(question(submitted, "scale").pk, 1, revision=1)],
        )


def test_submitting_a_60_question_assessment_costs_the_same_queries_for_10_and_60_answers(
    manager, count_queries
):
    from assessments.services import version_import, version_publish
    from tests.questionnaire_documents import scale_document

    version = version_publish(
        version=version_import(document=scale_document("sixty"), by=None), by=None
    )
    questions = list(questions_by_id(version).values())
    assert len(questions) == 60
    structure_for_version(version)  # computed once per process for a published version

    def queries(answered: int) -> int:
        engagement = EngagementFactory(client=ClientFactory(owner=manager))
        PastExperience.objects.create(
            client=engagement.client,
            supplier="Old",
            process_type="collections",
            outcome="failure",
            severity=4,
        )
        assessment = assessment_start(engagement=engagement, by=manager, version=version)[0]
        answers_save(
            assessment=assessment,
            by=manager,
            answers=[AnswerInput(q.pk, 3) for q in questions[:answered]],
        )
        with count_queries() as captured:
            assessment_submit(assessment=assessment, by=manager)
        return captured.count

    assert queries(10) == queries(60)


def test_a_director_approves_or_returns_with_a_comment(assessment, manager):
    answer_everything(assessment)
    assessment_submit(assessment=assessment, by=manager)
    director = DirectorFactory()
    with pytest.raises(PermissionDenied):
        assessment_review(assessment=assessment, by=manager, approve=True)
    with pytest.raises(ValidationError):
        assessment_review(assessment=assessment, by=director, approve=False, comment="  ")
    returned = assessment_review(
        assessment=assessment, by=director, approve=False, comment="Check pk-2"
    )
    assert returned.status == AssessmentStatus.RETURNED
    # Corrected and resubmitted, then approved; every step is recorded.
    scale = question(returned, "scale")
    current = Answer.objects.get(assessment=returned, question=scale)
    answers_save(
        assessment=returned,
        by=manager,
        answers=[AnswerInput(scale.pk, 5, revision=current.revision)],
    )
    assessment_submit(assessment=returned, by=manager)
    approved = assessment_review(assessment=returned, by=director, approve=True)
    assert approved.status == AssessmentStatus.APPROVED
    steps = list(
        AssessmentTransition.objects.filter(assessment=approved).values_list("to_status", flat=True)
    )
    assert steps == ["draft", "submitted", "returned", "submitted", "approved"]
    assert DimensionResult.objects.filter(assessment=approved).count() == 10


def stored_state(assessment):
    assessment.refresh_from_db()
    fields = (
        "status", "maturity_score", "maturity_level", "defensiveness_index",
        "questionnaire_defensiveness", "quadrant", "completeness", "result",
    )  # fmt: skip
    stored = {field: getattr(assessment, field) for field in fields}
    for item in stored["result"]["evidence"]:
        item.pop("id")  # each run made its own past experiences
    return (
        stored,
        sorted(
            DimensionResult.objects.filter(assessment=assessment).values_list(
                "code", "kind", "score"
            )
        ),
        list(
            AssessmentTransition.objects.filter(assessment=assessment).values_list(
                "from_status", "to_status", "by"
            )
        ),
        _plan_state(assessment),
    )


def _plan_state(assessment):
    """The education plan the submit asked for: its own statement's row (PLAN_RIDER) or
    plan_request's, the same either way."""
    from education.models import EducationPlan

    plans = EducationPlan.objects.filter(assessment=assessment)
    return [
        (
            plan.engagement_id == assessment.engagement_id,
            plan.status,
            plan.playbook_id,
            plan.built_at,
            plan.builds,
            plan.build_failures,
            plan.last_error,
            plan.sweep_at - plan.requested_at,
            abs(plan.requested_at - assessment.submitted_at) < timedelta(seconds=5),
        )
        for plan in plans
    ]


def test_the_single_statement_submit_stores_exactly_what_the_orm_path_stores(
    manager, monkeypatch, count_queries
):
    from assessments.services import assessments as module

    states = []
    for single in (True, False):
        monkeypatch.setattr(module, "SINGLE_STATEMENT_SUBMIT", single)
        if not single:  # the other databases' read path too
            monkeypatch.setattr(module.connection, "vendor", "other")
        engagement = EngagementFactory(client=ClientFactory(owner=manager))
        bad_experiences(engagement.client, (5, date(2024, 3, 1)), (3, None), (4, date(2025, 6, 1)))
        assessment = assessment_start(engagement=engagement, by=manager)[0]
        answer_everything(assessment, level=3)
        with count_queries() as captured:
            assessment_submit(assessment=assessment, by=manager)
        # The single-statement path really ran (one WITH … for the writes), the other did not.
        assert any(sql.lstrip().startswith("WITH") for sql in captured.sql) is single
        states.append(stored_state(assessment))
    assert states[0] == states[1]
    assert states[0][0]["status"] == AssessmentStatus.SUBMITTED


def test_the_single_statement_upsert_stores_exactly_what_the_orm_path_stores(
    manager, monkeypatch, count_queries
):
    """Answers are written on PostgreSQL by one statement that checks and writes (the
    short way), or under the assessment's lock by one prepared upsert (which touches the
    assessment too), elsewhere by the ORM: new answers, changed ones (a note kept when
    omitted, one marked not applicable, one cleared) end the same, and the assessment's
    time moves."""
    from assessments.services import answers as module

    states = []
    for way in ("one statement", "upsert under the lock", "orm"):
        if way == "upsert under the lock":
            monkeypatch.setattr(module, "_save_in_one_statement", lambda *a, **k: None)
        if way == "orm":
            monkeypatch.setattr(module.connection, "vendor", "other")
        assessment = assessment_start(
            engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
        )[0]
        scale = question(assessment, "scale")
        choice = question(assessment, "choice")
        optional = question(assessment, "scale", allow_na=True)
        text = question(assessment, "text")
        answers_save(
            assessment=assessment,
            by=manager,
            answers=[
                AnswerInput(question=scale.pk, value=2, note="First note ✓"),
                AnswerInput(question=choice.pk, value=choice.options[0]["code"]),
                AnswerInput(question=optional.pk, value=3, note="n"),
                AnswerInput(question=text.pk, value="Free text, “quoted”"),
            ],
        )
        touched = type(assessment).objects.get(pk=assessment.pk).updated_at
        with count_queries() as captured:
            answers_save(
                assessment=assessment,
                by=manager,
                answers=[
                    AnswerInput(question=scale.pk, value=4, revision=1),  # the note is kept
                    AnswerInput(
                        question=optional.pk, not_applicable=True, na_reason=" No IVR ",
                        revision=1,
                    ),
                    AnswerInput(question=choice.pk, value=None, revision=1),  # cleared
                ],
            )  # fmt: skip
        assert any("ON CONFLICT" in sql for sql in captured.sql)
        assert any("core_refuse_unless" in sql for sql in captured.sql) is (way == "one statement")
        # The short way is one statement (and, inside the test's transaction, a savepoint
        # around it); the long way locks, reads, then writes (the ORM in two statements).
        written = [sql for sql in captured.sql if not sql.startswith(("SAVEPOINT", "RELEASE"))]
        assert len(written) == {"one statement": 1, "upsert under the lock": 3, "orm": 4}[way]
        assert any(sql.startswith("WITH touched") for sql in captured.sql) is (
            way == "upsert under the lock"
        )
        assert type(assessment).objects.get(pk=assessment.pk).updated_at > touched
        states.append(
            sorted(
                Answer.objects.filter(assessment=assessment).values_list(
                    "question_id", "value", "not_applicable", "na_reason", "note", "revision",
                    "updated_by",
                )
            )
        )  # fmt: skip
    assert states[0] == states[1] == states[2]
    assert len(states[0]) == 4
