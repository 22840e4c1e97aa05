"""A believable demo portfolio, generated deterministically and in bulk.

The same ``clients`` count always produces the same clients (a seeded RNG, names derived
from the index), so running the seed again creates nothing new, and a larger count only
adds the missing clients. Rows are written in bulk — ``bulk_create`` in batches, COPY for
the millions of answers — so ``--clients 10000`` (over 100,000 assessments) takes
minutes, not hours, on PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from assessments.models import Answer, Assessment, AssessmentStatus, DimensionResult
from assessments.scoring import NOT_APPLICABLE, score
from assessments.selectors import (
    default_questionnaire,
    default_version,
    questions_by_id,
    structure_for_version,
)
from assessments.services.assessments import evidence_from, result_snapshot
from clients.models import (
    AuditAction,
    AuditEvent,
    Client,
    Engagement,
    EngagementPhaseChange,
    Legacy,
    Outcome,
    PastExperience,
    Phase,
    ProcessType,
    Relevance,
    Size,
    Stakeholder,
    Stance,
    TimelineEntry,
    WentWrong,
)
from core.bulk import write_rows
from dashboards.standings import standings_rebuild
from dashboards.summaries import summaries_rebuild
from education.demo import seed_education
from web.demo_data import (
    FIRST_NAMES,
    LAST_NAMES,
    LEGACY_TEXTS,
    LEGAL_SUFFIX,
    STAKEHOLDER_ROLES,
    SUPPLIERS,
    TIMELINE_TEMPLATES,
    demo_client_name,
)

BATCH = 2000
ENGAGEMENT_CHUNK = 1000  # engagements whose assessments are written at a time

DEMO_USERS = (
    # username, role, first name, last name
    ("director", Role.DIRECTOR, "Helena", "Duarte"),
    ("manager", Role.ACCOUNT_MANAGER, "Rafael", "Moreira"),
    ("manager2", Role.ACCOUNT_MANAGER, "Lucía", "Fernández"),
    ("admin", Role.ADMINISTRATOR, "Admin", ""),
)


@dataclass
class SeedReport:
    users_created: list[str] = field(default_factory=list)
    clients_created: int = 0
    clients_existing: int = 0
    rows_created: dict[str, int] = field(default_factory=dict)


def ensure_demo_users() -> tuple[dict[str, User], list[str]]:
    """The four demo logins (password from settings.DEMO_PASSWORD); created once."""
    users: dict[str, User] = {}
    created: list[str] = []
    for username, role, first, last in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                role=role,
                first_name=first,
                last_name=last,
                email=f"{username}@maturity.example",
                password=make_password(settings.DEMO_PASSWORD),
                is_staff=role == Role.ADMINISTRATOR,
                is_superuser=role == Role.ADMINISTRATOR,
            )
            created.append(username)
        users[username] = user
    return users, created


def ensure_extra_managers(count: int) -> tuple[list[User], list[str]]:
    """Further account managers for large portfolios; they cannot log in."""
    wanted = [f"am{n:03d}" for n in range(1, count + 1)]
    existing = {u.username: u for u in User.objects.filter(username__in=wanted)}
    missing = [
        User(
            username=name,
            role=Role.ACCOUNT_MANAGER,
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
            last_name=LAST_NAMES[i % len(LAST_NAMES)],
            password=make_password(None),
        )
        for i, name in enumerate(wanted)
        if name not in existing
    ]
    User.objects.bulk_create(missing)
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    return [users[name] for name in wanted], [u.username for u in missing]


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


@transaction.atomic
def seed_demo(*, clients: int, today: date | None = None) -> SeedReport:
    """Create the demo users and ``clients`` demo clients with their history."""
    today = today or timezone.localdate()
    report = SeedReport()
    users, report.users_created = ensure_demo_users()
    extra, extra_created = ensure_extra_managers(max(0, clients // 500))
    report.users_created += extra_created
    owners = [users["manager"], users["manager2"], *extra]

    names = [demo_client_name(i) for i in range(clients)]
    existing = set(
        Client.objects.filter(name__in=[n for n, _, _ in names]).values_list("name", flat=True)
    )
    report.clients_existing = len(existing)
    new_clients: list[Client] = []
    plans: list[random.Random] = []
    for index, (name, segment, country) in enumerate(names):
        if name in existing:
            continue
        rng = random.Random(f"maturity-demo-{index}")
        owner = owners[index % len(owners)]
        new_clients.append(
            Client(
                name=name,
                legal_name=f"{name} {LEGAL_SUFFIX.get(country, 'S.A.')}",
                tax_id=f"{rng.randrange(10**13, 10**14)}",
                segment=segment,
                size=rng.choices(Size.values, weights=(2, 4, 3, 1))[0],
                country=country,
                owner=owner,
                notes=rng.choice(
                    (
                        "Cliente cauteloso depois de duas trocas de fornecedor.",
                        "Sponsor novo, aberto a propostas de melhoria.",
                        "Compras conduz a relação; operação participa pouco.",
                        "Cliente compartilha dados de CRM com atraso.",
                        "",
                    )
                ),
                is_active=rng.random() > 0.06,
            )
        )
        plans.append(rng)
    Client.objects.bulk_create(new_clients, batch_size=BATCH)
    report.clients_created = len(new_clients)
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(client=client, action=AuditAction.IMPORTED, subject=client.name)
            for client in new_clients
        ),
        batch_size=BATCH,
    )

    engagements: list[Engagement] = []
    stakeholders: list[Stakeholder] = []
    experiences: list[PastExperience] = []
    memberships = []
    Membership = Client.team_members.through
    phases = Phase.values
    for client, rng in zip(new_clients, plans, strict=True):
        for process in rng.sample(ProcessType.values[:-1], k=rng.choice((1, 1, 2, 2, 3))):
            start = today - timedelta(days=rng.randrange(60, 1800))
            phase = rng.choices(phases, weights=(1, 1, 1, 6, 2, 1))[0]
            engagements.append(
                Engagement(
                    client=client,
                    process_type=process,
                    description="",
                    start_date=start,
                    end_date=start + timedelta(days=rng.randrange(400, 1500))
                    if phase == Phase.CLOSING
                    else None,
                    phase=phase,
                    phase_changed_at=_aware(today - timedelta(days=rng.randrange(5, 300))),
                )
            )
        for _ in range(rng.randrange(1, 5)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            stakeholders.append(
                Stakeholder(
                    client=client,
                    name=f"{first} {last}",
                    role=rng.choice(STAKEHOLDER_ROLES),
                    email=f"{first}.{last}@example.com".lower().encode("ascii", "ignore").decode(),
                    phone=f"+55 11 9{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
                    influence=rng.randrange(1, 6),
                    stance=rng.choices(Stance.values, weights=(2, 3, 2))[0],
                )
            )
        for _ in range(rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 1))[0]):
            ended = today - timedelta(days=rng.randrange(90, 3000))
            outcome = rng.choices(Outcome.values, weights=(2, 3, 4))[0]
            legacy = (
                Legacy.NONE
                if outcome == Outcome.SUCCESS
                else rng.choice((Legacy.CONTRACT_CLAUSE, Legacy.DEFENSIVE_BEHAVIOUR, Legacy.BOTH))
            )
            experiences.append(
                PastExperience(
                    client=client,
                    supplier=rng.choice(SUPPLIERS),
                    process_type=rng.choice(ProcessType.values[:-1]),
                    started_on=ended - timedelta(days=rng.randrange(200, 1500)),
                    ended_on=ended,
                    outcome=outcome,
                    went_wrong=[]
                    if outcome == Outcome.SUCCESS
                    else sorted(rng.sample(WentWrong.values, k=rng.randrange(1, 4))),
                    severity=1 if outcome == Outcome.SUCCESS else rng.randrange(2, 6),
                    legacy=legacy,
                    legacy_description=LEGACY_TEXTS.get(legacy, ""),
                )
            )
        if rng.random() < 0.25:
            teammate = owners[(owners.index(client.owner) + 1) % len(owners)]
            memberships.append(Membership(client_id=client.pk, user_id=teammate.pk))
    Engagement.objects.bulk_create(engagements, batch_size=BATCH)
    Stakeholder.objects.bulk_create(stakeholders, batch_size=BATCH)
    PastExperience.objects.bulk_create(experiences, batch_size=BATCH)
    Membership.objects.bulk_create(memberships, batch_size=BATCH)

    phase_changes: list[EngagementPhaseChange] = []
    timeline: list[TimelineEntry] = []
    by_client: dict[int, list[Engagement]] = {}
    for engagement in engagements:
        by_client.setdefault(engagement.client_id, []).append(engagement)
        phase_changes.append(
            EngagementPhaseChange(
                engagement=engagement,
                from_phase="",
                to_phase=engagement.phase,
                changed_at=engagement.phase_changed_at or timezone.now(),
                changed_by=None,
            )
        )
    for client, rng in zip(new_clients, plans, strict=True):
        client_engagements = by_client.get(client.pk, [])
        for _ in range(rng.randrange(1, 6)):
            kind, title, body = rng.choice(TIMELINE_TEMPLATES)
            timeline.append(
                TimelineEntry(
                    client=client,
                    engagement=rng.choice(client_engagements) if client_engagements else None,
                    kind=kind,
                    relevance=rng.choice(Relevance.values),
                    occurred_on=today - timedelta(days=rng.randrange(0, 540)),
                    title=title,
                    body=body,
                    author=client.owner,
                )
            )
    EngagementPhaseChange.objects.bulk_create(phase_changes, batch_size=BATCH)
    TimelineEntry.objects.bulk_create(timeline, batch_size=BATCH)

    assessments, answers, education = _seed_assessments(
        engagements,
        experiences,
        plans_by_client={client.pk: rng for client, rng in zip(new_clients, plans, strict=True)},
        today=today,
    )

    voice = _seed_client_voice(today)
    summaries_rebuild()  # the dashboards' trend and education figures, as of now
    report.rows_created = {
        "engagements": len(engagements),
        "stakeholders": len(stakeholders),
        "past experiences": len(experiences),
        "team memberships": len(memberships),
        "phase changes": len(phase_changes),
        "timeline entries": len(timeline),
        "assessments": assessments,
        "answers": answers,
        **education,
        **voice,
    }
    return report


def _seed_assessments(
    engagements: list[Engagement],
    experiences: list[PastExperience],
    *,
    plans_by_client: dict[int, random.Random],
    today: date,
) -> tuple[int, int, dict[str, int]]:
    """Submitted assessments over time for engagements past the prospect phase, scored by
    the real engine, written in bulk. Each engagement drifts: a client that starts
    defensive and immature tends to improve, as education is meant to make it.

    Written a chunk of engagements at a time (answers and dimension results with COPY on
    PostgreSQL), so 10,000 clients — over 100,000 assessments, five million answers —
    never hold more than one chunk in memory."""

    questionnaire = default_questionnaire()
    version = questionnaire.current_version() if questionnaire else None
    if version is None:
        return 0, 0, {}
    questions = list(questions_by_id(version).values())
    structure = structure_for_version(version)
    dimensions = {q.dimension.code: q.dimension for q in questions}
    names = {code: d.name for code, d in dimensions.items()}
    experience_rows: dict[int, list[tuple[int, str, int, str, date | None]]] = {}
    for experience in experiences:
        experience_rows.setdefault(experience.client_id, []).append(
            (
                experience.pk,
                experience.supplier,
                experience.severity,
                experience.outcome,
                experience.ended_on,
            )
        )
    evidence_by_client = {
        client_id: evidence_from(rows) for client_id, rows in experience_rows.items()
    }
    directors = list(
        User.objects.filter(role=Role.DIRECTOR, is_active=True).values_list("pk", "email")
    )
    assessed = [e for e in engagements if e.phase != Phase.PROSPECT]
    total_assessments = total_answers = 0
    education: dict[str, int] = {}
    now = timezone.now()
    for start in range(0, len(assessed), ENGAGEMENT_CHUNK):
        chunk = assessed[start : start + ENGAGEMENT_CHUNK]
        rows: list[Assessment] = []
        answer_sets: list[list[tuple[int, object, bool, str]]] = []
        dimension_sets: list[list[DimensionResult]] = []
        for engagement in chunk:
            rng = plans_by_client[engagement.client_id]
            owner_id = engagement.client.owner_id
            count = rng.randint(4, 9)
            # Days ago of each assessment, oldest first: the latest within the last
            # hundred days, the earlier ones three to five months apart.
            ago = [rng.randrange(5, 100)]
            for _ in range(count - 1):
                ago.append(ago[-1] + rng.randrange(90, 150))
            ago.reverse()
            # Maturity and defensiveness tendencies (1–5) that drift between assessments.
            maturity = rng.uniform(1.2, 3.0)
            defensive = rng.uniform(2.0, 4.5)
            evidence = evidence_by_client.get(engagement.client_id, [])
            for step in range(count):
                when = today - timedelta(days=ago[step])
                values: dict[str, object] = {}
                answers: list[tuple[int, object, bool, str]] = []
                for question in questions:
                    tendency = maturity if question.dimension.kind == "maturity" else defensive
                    if question.reverse:
                        tendency = 6 - tendency
                    if question.allow_na and rng.random() < 0.05:
                        value: object = NOT_APPLICABLE
                    else:
                        value = question.spec.demo(question, tendency, rng)
                        if value is None:
                            continue
                    values[question.code] = value
                    na = value is NOT_APPLICABLE
                    answers.append(
                        (
                            question.pk,
                            None if na else value,
                            na,
                            "Não se aplica a esta operação." if na else "",
                        )
                    )
                result = score(structure, values, [item for item, _ in evidence], today=when)
                submitted = timezone.make_aware(datetime.combine(when, time(16, 0)))
                rows.append(
                    Assessment(
                        engagement=engagement,
                        version=version,
                        assessor_id=owner_id,
                        status=AssessmentStatus.APPROVED
                        if step < count - 1
                        else AssessmentStatus.SUBMITTED,
                        submitted_at=submitted,
                        maturity_score=result.maturity_score,
                        maturity_level=result.maturity_level,
                        defensiveness_index=result.defensiveness_index,
                        questionnaire_defensiveness=result.questionnaire_defensiveness,
                        quadrant=result.quadrant.value if result.quadrant else "",
                        completeness=result.completeness,
                        result=result_snapshot(result, evidence, names),
                    )
                )
                answer_sets.append(answers)
                dimension_sets.append(
                    [
                        DimensionResult(
                            dimension=dimensions[d.code], code=d.code, kind=d.kind, score=d.score
                        )
                        for d in result.dimensions
                    ]
                )
                maturity = max(1.0, min(5.0, maturity + rng.uniform(-0.25, 0.45)))
                defensive = max(1.0, min(5.0, defensive - rng.uniform(-0.25, 0.45)))
        Assessment.objects.bulk_create(rows, batch_size=BATCH)
        answer_rows = [
            (assessment.pk, question_id, value, na, reason, now)
            for assessment, answers in zip(rows, answer_sets, strict=True)
            for question_id, value, na, reason in answers
        ]
        write_rows(
            Answer,
            ("assessment_id", "question_id", "value", "not_applicable", "na_reason", "updated_at"),
            answer_rows,
            json_fields={"value"},
        )
        write_rows(
            DimensionResult,
            ("assessment_id", "dimension_id", "code", "kind", "score"),
            [
                (assessment.pk, item.dimension.pk, item.code, item.kind, item.score)
                for assessment, items in zip(rows, dimension_sets, strict=True)
                for item in items
            ],
        )
        for kind, count in seed_education(
            rows,
            dimension_sets,
            engagements={e.pk: e for e in chunk},
            directors=directors,
            today=today,
        ).items():
            education[kind] = education.get(kind, 0) + count
        standings_rebuild(e.pk for e in chunk)
        total_assessments += len(rows)
        total_answers += len(answer_rows)
    return total_assessments, total_answers, education


# --- The client's voice -----------------------------------------------------------------

VOICE_SHARE = 0.3  # of the engagements with a submitted assessment and a stakeholder


def _seed_client_voice(today: date) -> dict[str, int]:
    """A round on about a third of the assessed engagements whose client has a stakeholder
    with an e-mail: one to three stakeholders invited (in the client's language), most of
    whom answered the client's questions — often a level above the supplier's answer, as
    clients tend to see themselves — and some said they were done. No e-mail is written:
    the demo's links are unknown (resending one e-mails a new link)."""
    from voice.models import ClientAnswer, Invitation, Round
    from voice.services import _new_link, client_questions, round_ends_at

    version = default_version()
    if version is None:
        return {}
    asked = client_questions(version)
    latest: dict[int, int] = {}
    for engagement_id, assessment_id in (
        Assessment.objects.filter(
            status__in=(AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED),
            version=version,
            engagement__rounds__isnull=True,
        )
        .order_by("engagement_id", "submitted_at")
        .values_list("engagement_id", "id")
    ):
        latest[engagement_id] = assessment_id  # the last one wins
    engagements = Engagement.objects.filter(pk__in=list(latest)).select_related("client")
    people: dict[int, list[Stakeholder]] = {}
    for person in Stakeholder.objects.filter(
        client__engagements__in=list(latest), email__gt=""
    ).distinct():
        people.setdefault(person.client_id, []).append(person)
    chosen = []
    for engagement in engagements.order_by("pk"):
        rng = random.Random(f"maturity-voice-{engagement.pk}")
        if rng.random() < VOICE_SHARE and people.get(engagement.client_id):
            chosen.append((engagement, rng))
    supplier: dict[tuple[int, int], Any] = {
        (assessment_id, question_id): value
        for assessment_id, question_id, value in Answer.objects.filter(
            assessment_id__in=[latest[e.pk] for e, _ in chosen],
            question__in=asked,
            not_applicable=False,
        ).values_list("assessment_id", "question_id", "value")
    }
    opened = _aware(today - timedelta(days=12))
    rounds = [
        Round(
            engagement=engagement,
            version=version,
            opened_by=engagement.client.owner,
            opened_at=opened,
            closes_on=today + timedelta(days=rng.randrange(3, 20)),
        )
        for engagement, rng in chosen
    ]
    Round.objects.bulk_create(rounds, batch_size=BATCH)
    invitations: list[Invitation] = []
    planned: list[tuple[Invitation, random.Random, int, float]] = []
    for round_, (engagement, rng) in zip(rounds, chosen, strict=True):
        language = "pt-br" if engagement.client.country == "BR" else "es"
        bias = rng.choice((0.0, 0.5, 1.0, 1.0, 1.5, -0.5))  # how much higher they see it
        candidates = people[engagement.client_id]
        for person in rng.sample(candidates, k=min(len(candidates), rng.randrange(1, 4))):
            nonce, _secret, digest = _new_link()
            invitation = Invitation(
                round=round_,
                stakeholder=person,
                language=language,
                nonce=nonce,
                token_digest=digest,
                invited_by=engagement.client.owner,
                created_at=opened,
                expires_at=round_ends_at(round_),
                finished_at=_aware(today - timedelta(days=rng.randrange(0, 10)))
                if rng.random() < 0.6
                else None,
            )
            invitations.append(invitation)
            planned.append((invitation, rng, latest[engagement.pk], bias))
    Invitation.objects.bulk_create(invitations, batch_size=BATCH)
    answers: list[ClientAnswer] = []
    for invitation, rng, assessment_id, bias in planned:
        if invitation.finished_at is None and rng.random() < 0.4:
            continue  # invited, not answered yet
        for question in asked:
            ours = supplier.get((assessment_id, question.pk))
            if rng.random() < 0.08 or not isinstance(ours, int):
                value = None  # not sure
            else:
                value = max(1, min(5, round(ours + bias + rng.choice((-1, 0, 0, 0, 1)))))
            answers.append(ClientAnswer(invitation=invitation, question=question, value=value))
    ClientAnswer.objects.bulk_create(answers, batch_size=BATCH)
    return {
        "client rounds": len(rounds),
        "invitations": len(invitations),
        "client answers": len(answers),
    }
