"""Schemathesis over every operation of the API, with all its checks, as a director and as
an account manager, on a seeded portfolio: no server error, no response outside the schema,
no undocumented status (issue 15).

The schema is the one the API serves (drf-spectacular), with one change: each ``{id}`` in a
path gets an example that stands for a row of the seeded portfolio the caller may see, so
the examples phase reaches real rows and not only 404s. The test swaps the stand-in for the
row's id (the portfolio is seeded once per module, after the schema is built). Requests go
in-process through Django's WSGI handler, inside the test's transaction: each operation's
writes are undone before the next.

Both roles get the schema's examples and property-based fuzzing; the director also gets the
coverage phase, whose cases (each field's edges and wrong types) do not depend on who
sends them and cost three quarters of the time. ``MAXIMUM_EXAMPLES`` sets the fuzzing
phase's examples per operation and role, chosen so the whole CI stays within its 15
minutes; ``FUZZ_EXAMPLES`` in the environment raises it for a deeper run:

    FUZZ_EXAMPLES=200 make test PYTEST_ARGS="tests/test_api_fuzz.py"
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.config import SchemathesisConfig

from tests.fuzz_portfolio import RESOURCES, seed

MAXIMUM_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))

# A schema-valid request can still be refused for what a schema cannot say: an id that names
# no row (``engagement: 7``), a business rule (submitting an assessment with unanswered
# questions), or an Idempotency-Key the fuzzer reuses with another body. Those are 400 and
# 422 with the API's error shape, which the other checks hold to the schema.
REFUSED_FOR_WHAT_A_SCHEMA_CANNOT_SAY = ["400", "422"]
# A stale If-Match is answered 412 before the body is read, as HTTP has it (preconditions
# come before the method): an invalid body sent with a stale tag is refused with 412.
NEGATIVE_REFUSALS = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "412",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]
POSITIVE_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]


def config(*, coverage: bool) -> SchemathesisConfig:
    """All checks; the schema's examples, property-based fuzzing and, with ``coverage``,
    the coverage phase (each parameter's and field's edges and wrong types, one by one:
    three quarters of the run's time)."""
    return SchemathesisConfig.from_dict(
        {
            "seed": 2026,
            "generation": {"max-examples": MAXIMUM_EXAMPLES},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "enabled": True,
                "negative_data_rejection": {"expected-statuses": NEGATIVE_REFUSALS},
                "positive_data_acceptance": {
                    "expected-statuses": POSITIVE_ANSWERS + REFUSED_FOR_WHAT_A_SCHEMA_CANNOT_SAY
                },
            },
        }
    )


# The stand-in id of each resource a path can name; the test swaps it for the id of the
# portfolio's row of that kind the caller sees.
STAND_INS = {resource: 900_001 + i for i, resource in enumerate(RESOURCES)}


def _resource(path: str, parameter: str) -> str:
    """The resource ``parameter`` names in ``path``: ``/api/v1/clients/{id}/`` → clients;
    ``…/deliveries/{delivery_pk}/…`` → deliveries."""
    segments = path.strip("/").split("/")
    at = segments.index("{" + parameter + "}")
    return segments[at - 1]


def served_schema() -> dict[str, Any]:
    """The schema the API serves, with a stand-in example for every id in a path."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    spec: dict[str, Any] = json.loads(OpenApiJsonRenderer().render(generated))
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    parameter["example"] = STAND_INS[_resource(path, parameter["name"])]
    return spec


def _in_process(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    return WSGIHandler()(environ, start_response)


# The coverage phase's cases (each field's edges and wrong types) do not depend on who sends
# them, so the director alone gets them; what a role may see is fuzzed for both.
SERVED = served_schema()
as_director = schemathesis.openapi.from_dict(SERVED, config=config(coverage=True))
as_manager = schemathesis.openapi.from_dict(SERVED, config=config(coverage=False))
as_director.app = as_manager.app = _in_process


@pytest.fixture(scope="module")
def portfolio(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """A small demo portfolio with a row of every kind the API names, seeded once for the
    module inside a transaction that is rolled back at its end; each test's own transaction
    is a savepoint within it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield seed()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def _connection_kept() -> Iterator[None]:
    # Django closes "old" connections around each request; in-process, inside the test's
    # transaction, that would close the test's own (Django's test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def _hosts_and_limits(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "100000/min",
            "token": "100000/min",
        },
    }


def call_as(role: str, case: Any, portfolio: dict[str, Any]) -> None:
    """``case`` sent with ``role``'s token, its stand-in ids swapped for rows that role may
    see, and checked."""
    seen = portfolio["rows"][role]
    for name, value in list(case.path_parameters.items()):
        resource = _resource(case.path, name)
        if value == STAND_INS[resource] and resource in seen:
            case.path_parameters[name] = seen[resource]
    case.call_and_validate(headers={"Authorization": f"Bearer {portfolio['tokens'][role]}"})


@pytest.mark.usefixtures("_hosts_and_limits", "_connection_kept")
@pytest.mark.django_db
@as_director.parametrize()
def test_every_operation_keeps_its_contract_for_a_director(
    case: Any, portfolio: dict[str, Any]
) -> None:
    call_as("director", case, portfolio)


@pytest.mark.usefixtures("_hosts_and_limits", "_connection_kept")
@pytest.mark.django_db
@as_manager.parametrize()
def test_every_operation_keeps_its_contract_for_an_account_manager(
    case: Any, portfolio: dict[str, Any]
) -> None:
    call_as("manager", case, portfolio)


@pytest.mark.django_db
def test_the_portfolio_has_a_row_of_every_kind_for_a_director(portfolio: dict[str, Any]):
    """Else the examples would only reach 404s: every stand-in names a row the director sees."""
    assert set(portfolio["rows"]["director"]) == set(STAND_INS)
