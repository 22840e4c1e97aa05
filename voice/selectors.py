"""What the managers' pages read of the client's voice: an engagement's rounds, who was
invited and how far they got, and the perception gap of a round (docs/client-voice.md §4).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from assessments.models import Assessment, AssessmentStatus, Questionnaire
from assessments.perception import LEVEL_POINTS, DimensionGap, perception_gaps
from assessments.scoring import NOT_APPLICABLE
from assessments.selectors import questions_by_id, structure_for_version
from clients.models import Engagement, Stakeholder
from voice.models import ClientAnswer, Invitation, Round
from voice.services import client_questions

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


def supplier_view(round: Round) -> Assessment | None:
    """The supplier's view a round is compared with: its raters' reconciled assessment,
    else the engagement's latest submitted or approved one."""
    if round.reconciled_id is not None:
        return Assessment.objects.select_related("assessor").get(pk=round.reconciled_id)
    return (
        Assessment.objects.select_related("assessor")
        .filter(
            engagement_id=round.engagement_id,
            status__in=(AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED),
        )
        .order_by("-submitted_at", "-id")
        .first()
    )


def round_gaps(round: Round) -> RoundGaps:
    """The perception gap of each dimension the round asks the client about."""
    version = round.version
    questions = questions_by_id(version)
    client_codes = {q.code for q in questions.values() if q.asked_of_the_client}
    by_invitation: dict[int, dict[str, Any]] = defaultdict(dict)
    for invitation_id, question_id, value in ClientAnswer.objects.filter(
        invitation__round=round, value__isnull=False
    ).values_list("invitation_id", "question_id", "value"):
        question = questions.get(question_id)
        if question is not None:
            by_invitation[invitation_id][question.code] = value
    assessment = supplier_view(round)
    supplier: dict[str, Any] = {}
    if assessment is not None:
        for code, value, not_applicable in assessment.answers.values_list(
            "question__code", "value", "not_applicable"
        ):
            if code in client_codes:
                supplier[code] = NOT_APPLICABLE if not_applicable else value
    gaps = perception_gaps(
        structure_for_version(version), client_codes, list(by_invitation.values()), supplier
    )
    dimensions = {q.dimension.code: q.dimension for q in questions.values()}
    return RoundGaps(
        rows=[GapRow(g.code, dimensions[g.code].name, dimensions[g.code].kind, g) for g in gaps],
        supplier_assessment=assessment,
        respondents=len(by_invitation),
    )
