"""A questionnaire's dimension codes → Standing columns (see
:class:`~dashboards.models.DimensionSlot`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from assessments.models import Dimension, VersionStatus
from dashboards.models import SLOTS, DimensionSlot

log = logging.getLogger(__name__)


def slot_map(questionnaire_id: int) -> dict[str, int]:
    return dict(
        DimensionSlot.objects.filter(questionnaire_id=questionnaire_id).values_list("code", "slot")
    )


def slot_maps() -> dict[int, dict[str, int]]:
    """Every questionnaire's slots, by questionnaire id."""
    maps: dict[int, dict[str, int]] = {}
    for questionnaire_id, code, slot in DimensionSlot.objects.values_list(
        "questionnaire_id", "code", "slot"
    ):
        maps.setdefault(questionnaire_id, {})[code] = slot
    return maps


def ensure_slots(questionnaire_id: int, codes: Iterable[str]) -> dict[str, int]:
    """Give every code of the questionnaire a slot (the next free ones, in the order
    given); returns its map. Publishing is rare and a director's act; a clash with a
    concurrent publish is retried."""
    wanted = list(dict.fromkeys(codes))
    for _attempt in range(3):
        mapping = slot_map(questionnaire_id)
        missing = [code for code in wanted if code not in mapping]
        if not missing:
            return mapping
        taken = set(mapping.values())
        free = [slot for slot in range(1, SLOTS + 1) if slot not in taken]
        if len(missing) > len(free):
            log.warning(
                "Only %d dimension slots per questionnaire: %s stay out of the heatmap",
                SLOTS,
                ", ".join(missing[len(free) :]),
            )
        try:
            with transaction.atomic():
                DimensionSlot.objects.bulk_create(
                    DimensionSlot(questionnaire_id=questionnaire_id, code=code, slot=slot)
                    for code, slot in zip(missing, free, strict=False)
                )
        except IntegrityError:
            continue
    return slot_map(questionnaire_id)


def ensure_published_slots() -> None:
    """Slots for every dimension of every published or retired version (oldest first)."""
    codes: dict[int, list[str]] = {}
    for questionnaire_id, code in (
        Dimension.objects.exclude(version__status=VersionStatus.DRAFT)
        .order_by("version__questionnaire_id", "version__number", "position", "id")
        .values_list("version__questionnaire_id", "code")
    ):
        codes.setdefault(questionnaire_id, []).append(code)
    for questionnaire_id, wanted in codes.items():
        ensure_slots(questionnaire_id, wanted)
