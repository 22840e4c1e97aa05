"""Serializer helpers shared by every app's viewsets."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.settings import api_settings


def django_validation_error_to_drf(error: DjangoValidationError) -> serializers.ValidationError:
    """The DRF equivalent of a model's ``full_clean`` error, keyed by field.

    Services validate with the model, so their errors are Django's; converting them keeps
    the API's one error format (api/errors.py): one entry per message, on the field it
    concerns, with the model's code. Messages are rendered now, in the request's language.
    """
    if not hasattr(error, "error_dict"):
        return serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: _details(error.error_list)}
        )
    return serializers.ValidationError(
        {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): _details(
                errors
            )
            for field, errors in error.error_dict.items()
        }
    )


def _details(errors: list[DjangoValidationError]) -> list[ErrorDetail]:
    details = []
    for item in errors:
        message = str(item.message)
        if item.params:
            message = message % item.params
        details.append(ErrorDetail(message, code=item.code or "invalid"))
    return details


@contextmanager
def service_errors_as_drf() -> Iterator[None]:
    """Run a service call so that its model validation errors answer 400, not 500."""
    try:
        yield
    except DjangoValidationError as error:
        raise django_validation_error_to_drf(error) from error


class _IdList(serializers.ManyRelatedField):
    """DRF's ManyRelatedField takes any iterable: a JSON object's keys became ids
    (``{"3": 1}`` set ``[3]``, ``{}`` emptied the list). Only a list is a list here; a form's
    repeated fields (a QueryDict) still are."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, list) and not hasattr(data, "getlist"):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class PrimaryKeysField(serializers.PrimaryKeyRelatedField):
    """``PrimaryKeyRelatedField(many=True)`` that accepts a JSON list and nothing else."""

    @classmethod
    def many_init(cls, *args: Any, **kwargs: Any) -> serializers.ManyRelatedField:
        child = cls(*args, **kwargs)
        many = {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
        return _IdList(child_relation=child, **many)


class FieldsBuiltOnce:
    """For a read-only ModelSerializer whose fields depend on nothing but its class (no
    context, no request): the fields are built from the model once per class, and each
    instance gets copies of them — as DRF copies declared fields — instead of building
    them again (model introspection costs an assessment's detail about 1 ms). A subclass
    builds its own."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        cls = type(self)
        built = cls.__dict__.get("_fields_built")
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._fields_built = built  # type: ignore[attr-defined]
        return copy.deepcopy(built)

    @classmethod
    def shared(cls) -> Any:
        """One instance of the class, its fields bound once, that represents any number of
        rows (``shared().to_representation(row)``) on any thread: DRF's representation
        reads the bound fields and keeps nothing. Copying and binding the fields of an
        assessment's detail (its answers, history and scores, each a serializer) cost
        more than representing it. Its context is empty: for serializers whose fields
        need none, which is what this class is for."""
        shared = cls.__dict__.get("_shared")
        if shared is None:
            shared = cls()
            # Its own fields bound now (a nested serializer binds its own on first use; two
            # threads doing it at once each make a complete set, and one is kept).
            _ = shared.fields  # type: ignore[attr-defined]
            cls._shared = shared  # type: ignore[attr-defined]
        return shared
