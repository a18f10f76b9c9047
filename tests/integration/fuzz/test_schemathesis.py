"""Schema-driven fuzzing of the four APIs (issue 16): schemathesis generates requests from each
service's own OpenAPI document, valid and invalid, with a token that may act everywhere, and
every answer must be no server error, of a declared content type and match its declared
schema. Bounded: a few examples per operation, a few minutes for the four services."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from deploy.tokens import dev_token
from tests.integration.fuzz.serving import serving

EXAMPLES_PER_OPERATION = 12
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def _dossier(db_dsn: str, _tmp: Path) -> FastAPI:
    from services.dossier.bootstrap import create_app
    from services.dossier.settings import Settings

    return create_app(Settings(database_url=db_dsn), run_background=False)


def _scheduling(db_dsn: str, _tmp: Path) -> FastAPI:
    from services.scheduling.bootstrap import create_app
    from services.scheduling.settings import Settings

    return create_app(Settings(database_url=db_dsn), run_background=False)


def _survey(db_dsn: str, _tmp: Path) -> FastAPI:
    from services.survey.bootstrap import create_app
    from services.survey.settings import SurveySettings

    return create_app(SurveySettings(database_url=db_dsn), run_background=False)


def _reporting(db_dsn: str, tmp: Path) -> FastAPI:
    from services.reporting.bootstrap import create_app
    from services.reporting.settings import Settings

    return create_app(
        Settings(
            database_url=db_dsn,
            consumer_group=f"test-fuzz-{uuid.uuid4().hex[:8]}",
            worker_data_dir=tmp,
        ),
        run_worker=False,
    )


SERVICES: dict[str, Callable[[str, Path], FastAPI]] = {
    "dossier": _dossier,
    "scheduling": _scheduling,
    "survey": _survey,
    "reporting": _reporting,
}


def fuzz(base_url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Every operation of the service at `base_url`: the requests made, the failures."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    calls = operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"unreadable operation: {result.err()}")
            continue
        operation = result.ok()
        if operation.path.startswith("/dev/"):
            continue  # the development clock: not part of the API
        operations += 1

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(
            case=operation.as_strategy(GenerationMode.POSITIVE)
            | operation.as_strategy(GenerationMode.NEGATIVE)
        )
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # one report per operation, then the next one
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert calls >= 3 * operations, f"only {calls} requests on {operations} operations"
    return calls, failures


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_fuzzing_finds_no_server_error_and_no_schema_break(
    service: str, db_dsn: str, tmp_path: Path
) -> None:
    token = dev_token(["admin"], ["*"])
    app = SERVICES[service](db_dsn, tmp_path)
    with serving(app) as base_url:
        calls, failures = fuzz(base_url, {"Authorization": f"Bearer {token}"})
    assert calls > 0
    assert failures == [], "\n\n".join(failures)
