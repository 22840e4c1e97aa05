"""Where the api app keeps personal data (core.privacy's registry)."""

from __future__ import annotations

from api.models import ApiToken, IdempotencyKey
from core.privacy import Retention, UserData, register


def register_places() -> None:
    register(
        UserData(
            "api_tokens",
            ApiToken,
            "user_id",
            ("name", "prefix", "read_only", "created_at", "last_used_at", "revoked_at"),
        ),
        # Stored answers may hold personal data; they are only kept to be replayed.
        Retention("idempotency_keys", IdempotencyKey, "created_at", "IDEMPOTENCY_KEY_DAYS"),
    )
