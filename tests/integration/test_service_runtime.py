"""A minimal service on the platform runtime, over HTTP, real PostgreSQL and real Kafka:
operations endpoints, problem documents, optimistic concurrency, auth, and the correlation id
travelling from the request header into the published event."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Literal

import httpx
import pytest
from fastapi import Depends, Header
from pydantic import BaseModel

from deploy.tokens import dev_token
from shared.auth import Principal, Role, require_roles
from shared.contracts.dossier import FieldInquiryCompleted
from shared.eventstore import NewEvent
from shared.runtime import ServiceRuntime, create_service_app, outbox_message
from shared.settings import ServiceSettings
from tests.integration.kafka_reading import end_offsets, read_envelopes

SITE = str(uuid.uuid4())
Consultant = Annotated[Principal, Depends(require_roles(Role.CONSULTANT))]


class InquiryCommand(BaseModel):
    contact_type: Literal["professional_interview", "company_visit"]


@pytest.fixture
async def service(db_dsn: str) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceRuntime]]:
    settings = ServiceSettings(
        service_name="testsvc", database_url=db_dsn, relay_poll_interval_s=0.05
    )
    dev_token(["admin"])  # makes sure the development key pair exists
    runtime = ServiceRuntime(settings)
    app = create_service_app(runtime, title="Test service", description="for tests")

    @app.post("/dossiers/{dossier_id}/inquiries", status_code=201)
    async def record_inquiry(
        dossier_id: uuid.UUID,
        command: InquiryCommand,
        who: Consultant,
        if_match: Annotated[int, Header()],
    ) -> dict[str, int]:
        who.require_site(SITE)
        event = FieldInquiryCompleted(
            dossier_id=dossier_id,
            contact_type=command.contact_type,
            completed_at=datetime.now(UTC),
        )
        version = await runtime.store.append(
            str(dossier_id),
            if_match,
            [NewEvent("FieldInquiryCompleted", {"contact_type": command.contact_type})],
            outbox=[outbox_message(event, SITE)],
        )
        return {"version": version}

    await runtime.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://svc"
        ) as client:
            yield client, runtime
    finally:
        await runtime.stop()


def _auth(roles: list[str], sites: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(roles, sites or [SITE])}"}


async def test_operations_endpoints(service: tuple[httpx.AsyncClient, ServiceRuntime]) -> None:
    client, _ = service
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}
    assert ready.json()["dependencies"] == {"kafka": "ok"}
    assert set(ready.json()["loops"].values()) == {"running"}
    metrics = await client.get("/metrics")
    assert "bilan_http_requests_total" in metrics.text


async def test_command_publishes_with_the_request_correlation_id(
    service: tuple[httpx.AsyncClient, ServiceRuntime], kafka_bootstrap: str
) -> None:
    client, _ = service
    start = await end_offsets(kafka_bootstrap, "bilan.dossier.events")
    dossier = uuid.uuid4()
    response = await client.post(
        f"/dossiers/{dossier}/inquiries",
        json={"contact_type": "company_visit"},
        headers={**_auth(["consultant"]), "If-Match": "0", "X-Correlation-ID": "journey-77"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-correlation-id"] == "journey-77"
    received = await read_envelopes(
        kafka_bootstrap,
        start,
        keep=lambda e: e.subject == str(dossier),
        done=lambda got: len(got) >= 1,
        timeout_s=20,
    )
    (envelope,) = received
    assert envelope.correlation_id == "journey-77"
    assert envelope.sequence == 1
    assert envelope.site_id == SITE
    assert envelope.type == "bilan.dossier.FieldInquiryCompleted.v1"


async def test_errors_are_problem_documents(
    service: tuple[httpx.AsyncClient, ServiceRuntime],
) -> None:
    client, runtime = service
    dossier = uuid.uuid4()
    url = f"/dossiers/{dossier}/inquiries"
    ok = {**_auth(["consultant"]), "If-Match": "0"}

    malformed = await client.post(
        url, content=b"{not json", headers={**ok, "content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"
    assert malformed.json()["code"] == "invalid_request"

    wrong_value = await client.post(url, json={"contact_type": "séance de spiritisme"}, headers=ok)
    assert wrong_value.status_code == 422
    assert "spiritisme" not in wrong_value.text, "submitted values are never echoed"
    assert wrong_value.json()["errors"][0]["loc"] == ["body", "contact_type"]

    no_token = await client.post(url, json={"contact_type": "company_visit"})
    assert (no_token.status_code, no_token.json()["code"]) == (401, "unauthenticated")
    wrong_role = await client.post(
        url, json={"contact_type": "company_visit"}, headers={**ok, **_auth(["auditor"])}
    )
    assert (wrong_role.status_code, wrong_role.json()["code"]) == (403, "forbidden")
    other_site = await client.post(
        url,
        json={"contact_type": "company_visit"},
        headers={**ok, **_auth(["consultant"], [str(uuid.uuid4())])},
    )
    assert other_site.status_code == 403

    assert (
        await client.post(url, json={"contact_type": "company_visit"}, headers=ok)
    ).status_code == 201
    stale = await client.post(url, json={"contact_type": "company_visit"}, headers=ok)
    assert stale.status_code == 409
    assert stale.json()["code"] == "concurrency_conflict"
    # Nothing but the one accepted command was written.
    assert len(await runtime.store.read_stream(str(dossier))) == 1
    assert await runtime.pool.fetchval("SELECT count(*) FROM events") == 1
