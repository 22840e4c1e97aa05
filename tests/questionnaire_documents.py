"""Small, valid questionnaire documents for tests (the import format)."""

from __future__ import annotations

import copy
from typing import Any


def texts(en: str) -> dict[str, str]:
    return {"en": en, "pt-br": f"{en} (pt)", "es": f"{en} (es)"}


def levels() -> list[dict[str, Any]]:
    return [
        {"value": v, "label": texts(f"Level {v}"), "description": texts(f"Looks like {v}")}
        for v in range(1, 6)
    ]


def small_document(code: str = "test-questionnaire") -> dict[str, Any]:
    return copy.deepcopy(
        {
            "format": "maturity-questionnaire",
            "format_version": 1,
            "questionnaire": {"code": code, "name": texts("Test questionnaire")},
            "dimensions": [
                {
                    "code": "knowledge",
                    "kind": "maturity",
                    "weight": 1,
                    "name": texts("Knowledge"),
                    "questions": [
                        {
                            "code": "k-1",
                            "type": "scale",
                            "weight": 2,
                            "text": texts("Knows?"),
                            "levels": levels(),
                        },
                        {"code": "k-2", "type": "yes_no", "text": texts("Maps?"), "allow_na": True},
                    ],
                },
                {
                    "code": "distrust",
                    "kind": "defensiveness",
                    "weight": 1,
                    "name": texts("Distrust"),
                    "questions": [
                        {
                            "code": "d-1",
                            "type": "choice",
                            "text": texts("Audits?"),
                            "options": [
                                {"code": "never", "score": 0, "label": texts("Never")},
                                {"code": "always", "score": 100, "label": texts("Always")},
                            ],
                        },
                        {
                            "code": "d-2",
                            "type": "number",
                            "min": 0,
                            "max": 100,
                            "text": texts("Disputed %?"),
                        },
                        {"code": "d-3", "type": "text", "required": False, "text": texts("Notes?")},
                    ],
                },
            ],
        }
    )


def scale_document(code: str, *, dimensions: int = 10, per_dimension: int = 6) -> dict[str, Any]:
    """A questionnaire of anchored-scale questions only (10 × 6 = 60 by default), six
    tenths maturity; every question optional, so a test chooses how many to answer."""
    return {
        "format": "maturity-questionnaire",
        "format_version": 1,
        "questionnaire": {"code": code, "name": texts(f"Scale {code}")},
        "dimensions": [
            {
                "code": f"dim-{d}",
                "kind": "maturity" if d < dimensions * 6 // 10 else "defensiveness",
                "name": texts(f"Dimension {d}"),
                "questions": [
                    {
                        "code": f"q-{d}-{i}",
                        "type": "scale",
                        "required": False,
                        "text": texts(f"Question {d}.{i}?"),
                        "levels": levels(),
                    }
                    for i in range(per_dimension)
                ],
            }
            for d in range(dimensions)
        ],
    }
