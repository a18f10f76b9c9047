"""The survey service's authorisation matrix (tests/integration/authz/matrix.py), on a real
dossier (learnt over Kafka), its end-of-bilan survey, a complaint and an improvement action."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.survey.api.deps import SurveyService
from tests.integration.authz.matrix import (
    EVERYONE,
    READER,
    STAFF_ROLES,
    callers,
    check_matrix,
    operations_of,
    route,
    with_ids,
)
from tests.integration.survey.harness import Harness, Publisher, auth, eventually

HANDLERS_HERE = "quality_lead@site site_manager@site admin@site"
HANDLERS_ANYWHERE = f"{HANDLERS_HERE} quality_lead@away site_manager@away admin@away"
LEADS_HERE = "quality_lead@site admin@site"
LEADS_ANYWHERE = f"{LEADS_HERE} quality_lead@away admin@away"
ANY_TOKEN = " ".join(
    ["service", "beneficiary@mine", "beneficiary@other"]
    + [f"{r}@{w}" for r in STAFF_ROLES for w in ("site", "away")]
)
STAFF_HERE = " ".join(f"{r}@site" for r in STAFF_ROLES)
C = "/complaints/{complaint_id}"
A = "/improvement-actions/{action_id}"
QUESTIONS = {"questions": [
    {"code": "overall_satisfaction", "kind": "satisfaction", "label": "Satisfait(e) ?"}
]}  # fmt: skip

ROUTES = [
    route("GET", "/public/surveys/{token}", EVERYONE),
    route("POST", "/public/surveys/{token}/answers", EVERYONE),
    route("GET", "/questionnaires/{campaign}", ANY_TOKEN),
    route("GET", "/questionnaires/{campaign}/versions/{version}", ANY_TOKEN),
    # Organisation-wide: only a token covering every site (none of the matrix's callers).
    route("POST", "/questionnaires/{campaign}/versions", "", QUESTIONS,
          version_of="/questionnaires/{campaign}"),
    route("GET", "/surveys", HANDLERS_ANYWHERE),
    route("GET", "/surveys/{survey_id}", HANDLERS_HERE),
    route("POST", "/stakeholder-surveys", "",
          {"respondent_role": "funder", "email": "rh@opco.example"}),
    route("POST", "/complaints", f"{STAFF_HERE} service", {
        "site_id": "{site_id}", "dossier_id": "{dossier_id}", "complainant_role": "employer",
        "category": "organisation", "channel": "phone", "description": "Retards"}),
    route("GET", "/complaints", HANDLERS_ANYWHERE),
    route("GET", "/complaints/overdue", HANDLERS_ANYWHERE),
    # Only whoever recorded the complaint follows it there (here a manager outside the
    # matrix's callers): nobody of the matrix gets a 2xx.
    route("GET", f"{C}/status", ""),
    route("GET", C, HANDLERS_HERE),
    route("POST", f"{C}/acknowledgement", HANDLERS_HERE, {}, version_of=C),
    route("POST", f"{C}/answer", HANDLERS_HERE, {"response": "Revu"}, version_of=C),
    route("POST", f"{C}/closure", HANDLERS_HERE, {"resolution": "upheld"}, version_of=C),
    route("POST", "/improvement-actions", LEADS_HERE, {
        "source": "audit", "site_id": "{site_id}", "owner_id": "staff-1",
        "description": "Rappeler", "due_at": "2026-05-01T00:00:00Z"}),
    route("GET", "/improvement-actions", LEADS_ANYWHERE),
    route("GET", "/improvement-actions/overdue", LEADS_ANYWHERE),
    route("GET", A, LEADS_HERE),
    route("POST", f"{A}/completion", LEADS_HERE, {}, version_of=A),
]  # fmt: skip
OPERATIONS_ROUTES = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")]


@pytest.fixture
async def api(
    db_dsn: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[httpx.AsyncClient, SurveyService, Harness]]:
    harness = Harness(db_dsn, 1, kafka_bootstrap)  # no mail: the survey exists all the same
    await harness.prepare()
    async with harness.running() as running:
        client, service = running.client, running.service
        yield client, service, harness


async def test_no_caller_outside_the_matrix_gets_a_2xx(
    api: tuple[httpx.AsyncClient, SurveyService, Harness], publisher: Publisher
) -> None:
    client, service, harness = api
    site, dossier, beneficiary = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    await publisher.complete_bilan(dossier, beneficiary, site, harness.clock.now())
    pool = service.runtime.pool

    async def surveyed() -> bool:
        found = await pool.fetchval("SELECT count(*) FROM surveys WHERE dossier_id = $1", dossier)
        return bool(found == 1)

    await eventually(surveyed)
    survey_id = await pool.fetchval("SELECT survey_id FROM surveys WHERE dossier_id = $1", dossier)
    manager = auth(["site_manager"], [site])
    complaint = await client.post(
        "/complaints",
        json={
            "site_id": site,
            "dossier_id": str(dossier),
            "complainant_role": "beneficiary",
            "category": "organisation",
            "channel": "email",
            "description": "Rendez-vous annulé",
        },
        headers=manager,
    )
    assert complaint.status_code == 201, complaint.text
    action = await client.post(
        "/improvement-actions",
        json={
            "source": "complaint",
            "source_id": complaint.json()["complaint_id"],
            "site_id": site,
            "owner_id": "staff-42",
            "description": "Confirmer les rendez-vous",
            "due_at": "2026-05-01T00:00:00Z",
        },
        headers=auth(["quality_lead"], [site]),
    )
    assert action.status_code == 201, action.text
    ids = {
        "site_id": site,
        "dossier_id": str(dossier),
        "survey_id": str(survey_id),
        "complaint_id": complaint.json()["complaint_id"],
        "action_id": action.json()["action_id"],
        "campaign": "end_of_bilan",
        "version": "1",
        "token": "A" * 43,
    }
    everyone = callers(site, people={"beneficiary@mine": str(beneficiary)})
    document = (await client.get("/openapi.json")).json()
    before = await pool.fetchval("SELECT count(*) FROM events")
    outcome = await check_matrix(
        client,
        with_ids(ROUTES, ids),
        everyone,
        ids,
        reader=READER,
        operations=operations_of(document),
        not_in_matrix=OPERATIONS_ROUTES,
    )
    assert outcome.unexpected == [], "\n".join(outcome.unexpected)
    assert outcome.tried > 200
    assert await pool.fetchval("SELECT count(*) FROM events") == before
