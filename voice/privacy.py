"""Where the client's voice keeps personal data (core.privacy's registry): a stakeholder's
invitations and answers. Their name and e-mail are the stakeholder's (clients), erased
with it; an invitation holds no copy, and its link's secret is never stored."""

from __future__ import annotations

from core.privacy import StakeholderData, register
from voice.models import ClientAnswer, Invitation


def register_places() -> None:
    register(
        StakeholderData(
            "client_voice.invitations",
            Invitation,
            "stakeholder_id",
            (
                "id",
                "round_id",
                "language",
                "created_at",
                "expires_at",
                "reminded_at",
                "revoked_at",
                "finished_at",
            ),
        ),
        StakeholderData(
            "client_voice.answers",
            ClientAnswer,
            "invitation__stakeholder_id",
            ("invitation_id", "question__code", "value", "updated_at"),
        ),
    )
