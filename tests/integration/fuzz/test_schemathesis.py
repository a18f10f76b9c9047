"""Schema-driven fuzzing of the four APIs (issue 16): schemathesis generates requests from each
service's own OpenAPI document, valid and invalid, with a token that may act everywhere, on
random ids and on real objects made first (a dossier and its beneficiary's request, a site
and a staff member, a complaint and an action); every answer must be no server error, of a
declared content type and match its declared schema. Bounded: a few examples per operation,
under a minute for the four services."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
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


def seed(service: str, base_url: str, headers: dict[str, str]) -> dict[str, str]:
    """Real objects for the fuzzer to reach: path parameter -> the id of one."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:

        def made(method: str, path: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
            response = client.request(method, path, json=body, **kw)
            assert response.status_code in (200, 201, 202), (path, response.text)
            return response

        if service == "scheduling":
            site = made("POST", "/sites", {"name": "Annecy", "region": "ara"}).json()["site_id"]
            made("POST", f"/sites/{site}/rooms", {"name": "C3", "confidential": True})
            staff = made("POST", "/staff", {
                "roles": ["consultant"], "site_ids": [site], "contract": "employee"
            }).json()["staff_id"]  # fmt: skip
            return {"site_id": site, "staff_id": staff}
        if service == "dossier":
            site = str(uuid.uuid4())
            opened = made("POST", "/dossiers", {
                "site_id": site, "funding_route": "cpf", "enquiry_received_at":
                "2026-01-02T09:00:00Z", "name": "Alix Durand", "email": "alix@example.org",
            })  # fmt: skip
            dossier, beneficiary = opened.json()["id"], opened.headers["x-beneficiary-id"]
            person = client.get(f"/beneficiaries/{beneficiary}")
            asked = made(
                "POST", f"/beneficiaries/{beneficiary}/data-requests", {"kind": "access"},
                headers={"If-Match": person.headers["etag"]},
            )  # fmt: skip
            return {
                "dossier_id": dossier,
                "beneficiary_id": beneficiary,
                "request_id": asked.headers["location"].rsplit("/", 1)[1],
            }
        if service == "survey":
            site = str(uuid.uuid4())
            complaint = made("POST", "/complaints", {
                "site_id": site, "complainant_role": "employer", "category": "billing",
                "channel": "letter", "description": "Facture erronée",
            }).json()["complaint_id"]  # fmt: skip
            action = made("POST", "/improvement-actions", {
                "source": "audit", "site_id": site, "owner_id": "staff-1",
                "description": "Vérifier les factures", "due_at": "2090-05-01T00:00:00Z",
            }).json()["action_id"]  # fmt: skip
            return {"complaint_id": complaint, "action_id": action}
    return {}


def fuzz(base_url: str, headers: dict[str, str], known: dict[str, str]) -> tuple[int, list[str]]:
    """Every operation of the service at `base_url`, on random ids and, where its path names
    only ids in `known`, on those real objects: the requests made, the failures."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    calls = operations = 0
    reached: set[str] = set()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"unreadable operation: {result.err()}")
            continue
        operation = result.ok()
        if operation.path.startswith("/dev/"):
            continue  # the development clock: not part of the API
        operations += 1

        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )
        named = re.findall(r"{(\w+)}", operation.path)
        if named and all(name in known for name in named):
            strategy |= operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters={n: known[n] for n in named}
            )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=strategy)
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            if response.status_code < 300 and any(v in case.formatted_path for v in known.values()):
                reached.add(case.operation.path)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # one report per operation, then the next one
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert calls >= 3 * operations, f"only {calls} requests on {operations} operations"
    if known:  # the real objects were reached, not only refused ids
        assert len(reached) >= 2, f"real objects answered 2xx only on {sorted(reached)}"
    return calls, failures


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_fuzzing_finds_no_server_error_and_no_schema_break(
    service: str, db_dsn: str, tmp_path: Path
) -> None:
    token = dev_token(["admin"], ["*"])
    app = SERVICES[service](db_dsn, tmp_path)
    headers = {"Authorization": f"Bearer {token}"}
    with serving(app) as base_url:
        known = seed(service, base_url, headers)
        calls, failures = fuzz(base_url, headers, known)
    assert calls > 0
    assert failures == [], "\n\n".join(failures)
