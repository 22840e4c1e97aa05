"""The answer serializer's quick reading of plainly well-formed answers gives exactly what
DRF's fields give, and leaves everything else to them (with their errors)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from assessments.assessment_serializers import (
    AnswerInputSerializer,
    ImportedAnswerSerializer,
    _plainly_valid,
)

TRICKY_TEXT = st.sampled_from(["", "  padded  ", "a\x00b", "\ud800", "x\udfffy", "ção ✓", "\t"])
TEXT = st.one_of(st.text(max_size=20), TRICKY_TEXT)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
FIELDS = ["question", "value", "not_applicable", "na_reason", "note", "revision", "extra"]
ANSWER = st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=len(FIELDS))
# Answers as integrations send them, now and then with a wrong type or text.
PLAUSIBLE = st.fixed_dictionaries(
    {"question": st.one_of(st.integers(min_value=0, max_value=2**40), JSON)},
    optional={
        "value": JSON,
        "not_applicable": st.one_of(st.booleans(), SCALAR),
        "na_reason": st.one_of(TEXT, SCALAR),
        "note": st.one_of(TEXT, SCALAR),
        "revision": st.one_of(st.none(), st.integers(min_value=-2, max_value=10), SCALAR),
    },
)


def through_drf(serializer_class: type[serializers.Serializer], data: Any) -> Any:
    """DRF's own reading (the quick one skipped): the validated data, or None if refused."""
    serializer = serializer_class()
    try:
        return serializers.Serializer.run_validation(serializer, data)
    except serializers.ValidationError:
        return None


@pytest.mark.parametrize("serializer_class", [AnswerInputSerializer, ImportedAnswerSerializer])
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(PLAUSIBLE, ANSWER, JSON))
def test_the_quick_reading_agrees_with_drf_whenever_it_answers(serializer_class, data):
    quick = _plainly_valid(data, with_revision="revision" in serializer_class().fields)
    if quick is not None:
        assert quick == dict(through_drf(serializer_class, data))


@pytest.mark.parametrize(
    "data",
    [
        {"question": 12, "value": 4},
        {"question": 12, "value": None, "not_applicable": True, "na_reason": "  No IVR. "},
        {"question": 12, "value": [1, "a"], "note": " kept as sent ", "revision": 3},
        {"question": 12, "value": {"x": 1.5}, "revision": None, "anything": "ignored"},
    ],
)
def test_plain_answers_are_read_quickly(data):
    quick = _plainly_valid(data, with_revision=True)
    assert quick is not None
    assert quick == dict(through_drf(AnswerInputSerializer, data))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"question": "12", "value": 4}, None),  # DRF reads "12" as 12
        ({"question": 12, "not_applicable": "true"}, None),
        ({"question": True, "value": 4}, "question"),
        ({"value": 4}, "question"),
        ({"question": 12, "note": "a\x00b"}, "note"),
        ({"question": 12, "na_reason": "\ud800"}, "na_reason"),
        ({"question": 12, "revision": -1}, "revision"),
        ({"question": 12, "revision": 1.5}, "revision"),
    ],
)
def test_anything_else_goes_the_long_way_and_gets_drfs_error(data, field):
    assert _plainly_valid(data, with_revision=True) is None
    serializer = AnswerInputSerializer(data=data)
    assert serializer.is_valid() is (field is None)
    if field is not None:
        assert field in serializer.errors


@pytest.mark.django_db
def test_an_answer_is_shown_as_drfs_fields_would_show_it(manager_a, a_client):
    from assessments.assessment_serializers import AnswerSerializer
    from assessments.models import Answer
    from assessments.services import assessment_start
    from tests.factories import EngagementFactory, answer_everything

    assessment = assessment_start(engagement=EngagementFactory(client=a_client), by=manager_a)[0]
    answer_everything(assessment)
    answers = list(Answer.objects.filter(assessment=assessment).select_related("question"))
    answers[0].note, answers[1].not_applicable, answers[1].na_reason = "ç ✓", True, "No IVR."
    serializer = AnswerSerializer()
    for answer in answers:
        assert serializer.to_representation(answer) == dict(
            serializers.ModelSerializer.to_representation(serializer, answer)
        )


@pytest.mark.django_db(transaction=True)
def test_the_shared_detail_serializer_shows_what_a_new_one_shows(manager_a, a_client):
    """_detail represents with one serializer per class (FieldsBuiltOnce.shared), on every
    thread: it must show each assessment, in each language, as a new serializer does."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.utils import translation

    from assessments.assessment_serializers import AssessmentSerializer
    from assessments.services import assessment_start, assessment_submit
    from tests.factories import EngagementFactory, answer_everything

    assessments = []
    for level in (2, 4):
        draft = assessment_start(engagement=EngagementFactory(client=a_client), by=manager_a)[0]
        answer_everything(draft, level=level)
        assessments.append(assessment_submit(assessment=draft, by=manager_a))
    assessments.append(
        assessment_start(engagement=EngagementFactory(client=a_client), by=manager_a)[0]
    )

    def shown(assessment, language, shared):
        try:
            with translation.override(language):
                if shared:
                    return AssessmentSerializer.shared().to_representation(assessment)
                return dict(AssessmentSerializer(assessment).data)
        finally:
            connection.close()  # each worker thread's own

    for assessment in assessments:
        assessment.client_pk = a_client.pk
    expected = {
        (a.pk, language): shown(a, language, False)
        for a in assessments
        for language in ("pt-br", "es")
    }
    assert expected[(assessments[0].pk, "pt-br")] != expected[(assessments[0].pk, "es")]
    work = [(a, language) for a in assessments for language in ("pt-br", "es")] * 10
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda job: (job, shown(job[0], job[1], True)), work))
    for (assessment, language), data in results:
        assert data == expected[(assessment.pk, language)]
