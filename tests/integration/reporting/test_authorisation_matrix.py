"""The reporting API's authorisation matrix (tests/integration/authz/matrix.py). The API is
read-only; the projection is left empty here (no worker), so the checklist row only shows
that a dossier is never revealed: every caller outside the matrix is refused for who they
are, the others get the service's own 404."""

from __future__ import annotations

import uuid

import httpx

from deploy.tokens import dev_token
from services.reporting.bootstrap import create_app
from tests.integration.authz.matrix import (
    READER,
    callers,
    check_matrix,
    operations_of,
    route,
    with_ids,
)
from tests.integration.reporting.conftest import make_settings

READERS_HERE = "auditor@site quality_lead@site admin@site"
READERS_ANYWHERE = f"{READERS_HERE} auditor@away quality_lead@away admin@away"
PERIOD = {"from": "2026-01-01", "to": "2026-04-01", "site": "{site_id}"}
ROUTES = [
    route("GET", "/v1/indicators", READERS_HERE, params=PERIOD),
    route("GET", "/v1/indicators.csv", READERS_HERE, params=PERIOD),
    route("GET", "/v1/dossiers/{dossier_id}/checklist", READERS_HERE),
    route("GET", "/v1/status", READERS_ANYWHERE),
    # The annual BPF extract follows the indicators' readers and site rule.
    route("GET", "/v1/bpf", READERS_HERE, params=PERIOD),
    route("GET", "/v1/bpf.csv", READERS_HERE, params=PERIOD),
]
OPERATIONS_ROUTES = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]


async def test_no_caller_outside_the_matrix_gets_a_2xx(db_dsn: str, kafka_bootstrap: str) -> None:
    dev_token(["admin"])
    app = create_app(make_settings(db_dsn, kafka_bootstrap), run_worker=False)
    site = str(uuid.uuid4())
    ids = {"site_id": site, "dossier_id": str(uuid.uuid4())}
    routes = [
        route(r.method, r.path, " ".join(r.allowed), params={
            k: v.format(**ids) for k, v in (r.params or {}).items()
        } or None)
        for r in with_ids(ROUTES, ids)
    ]  # fmt: skip
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://reporting"
        ) as client,
    ):
        document = (await client.get("/openapi.json")).json()
        outcome = await check_matrix(
            client,
            routes,
            callers(site, people={"beneficiary@mine": str(uuid.uuid4())}),
            ids,
            reader=READER,
            operations=operations_of(document),
            not_in_matrix=OPERATIONS_ROUTES,
        )
    assert outcome.unexpected == [], "\n".join(outcome.unexpected)
    assert outcome.tried > 40


async def test_periods_are_iso_dates_in_a_plausible_window(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    dev_token(["admin"])
    app = create_app(make_settings(db_dsn, kafka_bootstrap), run_worker=False)
    lead = {"Authorization": f"Bearer {dev_token(['quality_lead'], ['*'])}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://reporting"
        ) as client,
    ):
        for first, after in [
            ("0", "1"),
            ("0001-01-01", "0001-02-01"),
            ("9999-01-01", "9999-12-31"),
        ]:
            refused = await client.get(
                "/v1/indicators", params={"from": first, "to": after}, headers=lead
            )
            assert refused.status_code == 422, (first, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
