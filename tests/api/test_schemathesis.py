"""Schemathesis against the app's own OpenAPI schema, as the office (which may call everything).

Every operation gets a bounded number of generated requests: valid ones (positive) pointed at rows
that exist, so the answers include 200s and not only 404s, and invalid ones (negative) with
whatever path ids come. Every answer must be no server error, a status code the schema
declares, the declared content type, and a body that matches the declared model — errors
included (``ErrorOut``).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import bearer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}  # per operation


@pytest.fixture
def schema(db_url):
    from api.app import OPENAPI_URL, create_app

    return schemathesis.openapi.from_asgi(OPENAPI_URL, create_app())


def test_the_schema_is_valid_openapi_with_chinese_errors(schema):
    raw = schema.raw_schema
    assert raw["openapi"].startswith("3.")
    assert "/api/v1/tasks/{task_id}/accept" in raw["paths"]
    accept = raw["paths"]["/api/v1/tasks/{task_id}/accept"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(accept["responses"])
    assert accept["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_every_operation_holds_to_the_schema(schema, engine, api_world, mode):
    office = api_world.users["office"]
    auth = bearer(engine, office)
    existing = {"campaign": api_world.code, "task_id": api_world.tasks["a"].id,
                "submission_id": api_world.submissions["own"].id, "assessment_id": api_world.assessment.id}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        path_parameters = None
        if mode is GenerationMode.POSITIVE and names:
            path_parameters = {k: v for k, v in existing.items() if k in names}
        ends_token = operation.method.upper() == "DELETE" and operation.path == "/api/v1/auth/token"
        # that call ends its token: it gets one of its own each time
        headers = (lambda: bearer(engine, office)) if ends_token else (lambda: auth)
        try:
            _exercise(operation, mode, path_parameters, headers)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing of this operation's input can be made invalid
        except Exception as exc:  # noqa: BLE001 — collect every operation's failure, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def _exercise(operation, mode, path_parameters, headers) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        sent = headers()
        response = case.call(headers=sent)
        case.validate_response(response, checks=CHECKS, headers=sent)

    run()
