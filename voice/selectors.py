"""What the managers' pages read of the client's voice: an engagement's rounds, who was
invited and how far they got, and the perception gap of a round (docs/client-voice.md §4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from assessments.models import Answer, Assessment, AssessmentStatus, Questionnaire
from assessments.perception import LEVEL_POINTS, DimensionGap, perception_gaps
from assessments.scoring import NOT_APPLICABLE
from assessments.selectors import questions_by_id, structure_for_version
from clients.models import Engagement, Stakeholder
from voice.models import ClientAnswer, Invitation, Round
from voice.services import client_questions, round_end

# A gap this wide (in levels) is worth a conversation: shown apart on the pages.
WIDE_GAP_LEVELS = 1.0


def rounds_of(engagement: Engagement) -> list[Round]:
    """The engagement's rounds, newest first, each with how many were invited and how
    many answered something."""
    return list(
        Round.objects.filter(engagement=engagement)
        .select_related("opened_by", "version__questionnaire")
        .annotate(
            invited=Count("invitations", distinct=True),
            responded=Count(
                "invitations", filter=Q(invitations__answers__isnull=False), distinct=True
            ),
        )
    )


def versions_asking_the_client() -> list[Any]:
    """Published versions a round can be opened on (they ask the client something), the
    default questionnaire's current one first."""
    found = []
    for questionnaire in Questionnaire.objects.order_by("-is_default", "code"):
        version = questionnaire.current_version()  # the published one, if any
        if version is not None and client_questions(version):
            found.append(version)
    return found


@dataclass(frozen=True)
class Respondent:
    invitation: Invitation
    answered: int  # questions with an answer (a level or "not sure")


def respondents_of(round: Round) -> list[Respondent]:
    """Everyone invited to the round, with how many questions each has answered."""
    invitations = (
        Invitation.objects.filter(round=round)
        .select_related("stakeholder", "invited_by")
        .annotate(answered=Count("answers"))
        .order_by("stakeholder__name", "id")
    )
    return [Respondent(invitation, invitation.answered) for invitation in invitations]


def stakeholders_to_invite(round: Round) -> tuple[QuerySet[Stakeholder], list[Stakeholder]]:
    """The client's stakeholders not invited to the round yet: those with an e-mail (who
    can be), and those without one (who first need it)."""
    rest = Stakeholder.objects.filter(client_id=round.engagement.client_id).exclude(
        invitations__round=round
    )
    return rest.exclude(email="").order_by("name"), list(rest.filter(email="").order_by("name"))


# --- The perception gap ----------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    """One dimension of a round: the client's respondents beside the supplier, in levels
    (1–5) rather than points, as people read them."""

    code: str
    name: dict[str, str]
    kind: str
    gap: DimensionGap

    @staticmethod
    def _level(points: float | None) -> float | None:
        return None if points is None else 1.0 + points / LEVEL_POINTS

    @property
    def client_level(self) -> float | None:
        return self._level(self.gap.client_mean)

    @property
    def spread_levels(self) -> float | None:
        spread = self.gap.client_spread
        return None if spread is None else spread / LEVEL_POINTS

    @property
    def supplier_level(self) -> float | None:
        return self._level(self.gap.supplier)

    @property
    def levels(self) -> float | None:
        return self.gap.gap_levels

    @property
    def wide(self) -> bool:
        return self.levels is not None and abs(self.levels) >= WIDE_GAP_LEVELS


@dataclass(frozen=True)
class RoundGaps:
    rows: list[GapRow]
    supplier_assessment: Assessment | None  # whose answers are the supplier's view
    respondents: int  # respondents with at least one level given

    @property
    def maturity(self) -> list[GapRow]:
        return [row for row in self.rows if row.kind == "maturity"]

    @property
    def practices(self) -> list[GapRow]:
        return [row for row in self.rows if row.kind != "maturity"]


def supplier_views(rounds: Sequence[Round]) -> dict[int, Assessment | None]:
    """The supplier's view each round is compared with: its raters' reconciled
    assessment, else the engagement's latest submitted or approved assessment by the end
    of the round (so a past round keeps the comparison it had). One query."""
    candidates = (
        Assessment.objects.select_related("assessor")
        .filter(
            Q(pk__in=[r.reconciled_id for r in rounds if r.reconciled_id])
            | Q(
                engagement_id__in={r.engagement_id for r in rounds},
                status__in=(AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED),
            )
        )
        .defer("result")
        .order_by("submitted_at", "id")
    )
    by_engagement: dict[int, list[Assessment]] = defaultdict(list)
    by_pk = {}
    for assessment in candidates:
        by_engagement[assessment.engagement_id].append(assessment)
        by_pk[assessment.pk] = assessment
    views: dict[int, Assessment | None] = {}
    for round in rounds:
        if round.reconciled_id is not None:
            views[round.pk] = by_pk.get(round.reconciled_id)
            continue
        end = round_end(round)
        before = [
            a
            for a in by_engagement[round.engagement_id]
            if a.status in (AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED)
            and a.submitted_at is not None
            and a.submitted_at <= end
        ]
        views[round.pk] = before[-1] if before else None
    return views


def rounds_gaps(rounds: Sequence[Round]) -> dict[int, RoundGaps]:
    """The perception gap of each dimension each round asks the client about, for any
    number of rounds in three queries (questions come from the per-process cache)."""
    if not rounds:
        return {}
    respondents: dict[int, dict[int, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
    questions_of = {r.pk: questions_by_id(r.version) for r in rounds}
    for round_id, invitation_id, question_id, value in ClientAnswer.objects.filter(
        invitation__round__in=[r.pk for r in rounds], value__isnull=False
    ).values_list("invitation__round_id", "invitation_id", "question_id", "value"):
        question = questions_of[round_id].get(question_id)
        if question is not None:
            respondents[round_id][invitation_id][question.code] = value
    views = supplier_views(rounds)
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    for assessment_id, code, value, not_applicable in (
        Answer.objects.filter(assessment_id__in={a.pk for a in views.values() if a is not None})
        .exclude(question__client={})  # only the questions asked of the client
        .values_list("assessment_id", "question__code", "value", "not_applicable")
    ):
        answers[assessment_id][code] = NOT_APPLICABLE if not_applicable else value
    found = {}
    for round in rounds:
        questions = questions_of[round.pk]
        client_codes = {q.code for q in questions.values() if q.asked_of_the_client}
        assessment = views[round.pk]
        ours = answers.get(assessment.pk, {}) if assessment is not None else {}
        theirs = list(respondents[round.pk].values())
        gaps = perception_gaps(
            structure_for_version(round.version),
            client_codes,
            theirs,
            {code: v for code, v in ours.items() if code in client_codes},
        )
        dimensions = {q.dimension.code: q.dimension for q in questions.values()}
        found[round.pk] = RoundGaps(
            rows=[
                GapRow(g.code, dimensions[g.code].name, dimensions[g.code].kind, g) for g in gaps
            ],
            supplier_assessment=assessment,
            respondents=len(theirs),
        )
    return found


def latest_heard(rounds: QuerySet[Round]) -> dict[int, tuple[Round, RoundGaps]]:
    """Of ``rounds``, each engagement's newest round with a respondent's level and a
    supplier's view to compare with, and its gaps: the perception gap the dashboards and
    the playbook's rules read. Four queries, whatever the number of engagements."""
    answered = ClientAnswer.objects.filter(invitation__round=OuterRef("pk"), value__isnull=False)
    heard = list(
        rounds.filter(Exists(answered))
        .select_related("version")
        .order_by("engagement_id", "-opened_at", "-id")
    )
    found = rounds_gaps(heard)
    chosen: dict[int, tuple[Round, RoundGaps]] = {}
    for round in heard:  # newest first within each engagement
        gaps = found[round.pk]
        if round.engagement_id not in chosen and gaps.respondents and gaps.supplier_assessment:
            chosen[round.engagement_id] = (round, gaps)
    return chosen


def round_gaps(round: Round) -> RoundGaps:
    """The perception gap of each dimension the round asks the client about."""
    return rounds_gaps([round])[round.pk]


@dataclass(frozen=True)
class GapsOverTime:
    """An engagement's rounds (oldest first) and, per maturity dimension, each round's
    gap in levels: what the client page shows."""

    engagement: Engagement
    rounds: list[Round]
    dimensions: list[tuple[str, dict[str, str], list[float | None]]]  # code, name, gaps


def gaps_over_time(engagements: Sequence[Engagement], *, last: int = 6) -> list[GapsOverTime]:
    """For each engagement with a round, its ``last`` rounds' gaps side by side (four
    queries, whatever the number of engagements and rounds)."""
    rounds_by: dict[int, list[Round]] = defaultdict(list)
    for round in (
        Round.objects.filter(engagement__in=[e.pk for e in engagements])
        .select_related("version")
        .order_by("opened_at", "id")
    ):
        rounds_by[round.engagement_id].append(round)
    shown = {e: rounds_by[e.pk][-last:] for e in engagements if rounds_by.get(e.pk)}
    gaps = rounds_gaps([r for rounds in shown.values() for r in rounds])
    result = []
    for engagement, rounds in shown.items():
        order: dict[str, tuple[dict[str, str], list[float | None]]] = {}
        for index, round in enumerate(rounds):
            for row in gaps[round.pk].maturity:
                _name, values = order.setdefault(row.code, (row.name, [None] * len(rounds)))
                values[index] = row.levels
        result.append(
            GapsOverTime(
                engagement,
                rounds,
                [(code, name, values) for code, (name, values) in order.items()],
            )
        )
    return result


def result_gap_section(assessment: Assessment, user: Any) -> tuple[str, dict[str, Any]] | None:
    """The result page's perception gap: the latest of the engagement's last rounds that
    compares the client's answers with this assessment (assessments.result_sections)."""
    if assessment.rater_sheet:
        return None
    rounds = list(
        Round.objects.filter(engagement_id=assessment.engagement_id)
        .select_related("version")
        .order_by("-opened_at", "-id")[:6]
    )
    if not rounds:
        return None
    gaps = rounds_gaps(rounds)
    for round in rounds:
        found = gaps[round.pk]
        compared = found.supplier_assessment
        if found.respondents and compared is not None and compared.pk == assessment.pk:
            return "clients/_result_gap.html", {
                "round": round,
                "gaps": found,
                "engagement": assessment.engagement,
            }
    return None
