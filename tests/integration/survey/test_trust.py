"""Issue 16 on the survey service: a beneficiary complains only as themselves about their own
dossiers, staff recording a complaint name its channel, and bad input (control characters,
implausible times, huge numbers, large bodies) is a 4xx problem document."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from deploy.tokens import dev_token
from services.survey.api.deps import SurveyService
from shared import contracts as ct
from tests.integration.survey.harness import Harness, Publisher, auth, eventually


@pytest.fixture
async def api(
    db_dsn: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[httpx.AsyncClient, SurveyService, Harness]]:
    harness = Harness(db_dsn, 1, kafka_bootstrap)
    await harness.prepare()
    async with harness.running() as running:
        client, service = running.client, running.service
        yield client, service, harness


def _complaint(site: str, dossier: uuid.UUID | None, **changes: object) -> dict[str, object]:
    return {
        "site_id": site,
        "dossier_id": str(dossier) if dossier else None,
        "complainant_role": "beneficiary",
        "category": "organisation",
        "description": "Rendez-vous annulé deux fois",
        **changes,
    }


async def test_a_beneficiary_complains_as_themselves_about_their_own_dossier(
    api: tuple[httpx.AsyncClient, SurveyService, Harness], publisher: Publisher
) -> None:
    client, service, harness = api
    site = str(uuid.uuid4())
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    me, someone = uuid.uuid4(), uuid.uuid4()
    for dossier, beneficiary in [(mine, me), (theirs, someone)]:
        await publisher.publish(
            ct.DossierOpened(
                dossier_id=dossier,
                beneficiary_id=beneficiary,
                site_id=uuid.UUID(site),
                funding_route="cpf",
                enquiry_received_at=harness.clock.now(),
                opened_at=harness.clock.now(),
            ),
            site,
        )
    pool = service.runtime.pool

    async def known() -> bool:
        count = await pool.fetchval(
            "SELECT count(*) FROM survey_dossiers WHERE dossier_id = ANY($1)", [mine, theirs]
        )
        return bool(count == 2)

    await eventually(known)
    as_me = {"Authorization": f"Bearer {dev_token(['beneficiary'], [], subject=str(me))}"}
    refusals = [
        (_complaint(site, theirs), 404, "dossier_not_found"),
        (_complaint(site, uuid.uuid4()), 404, "dossier_not_found"),
        (_complaint(site, None), 422, "dossier_required"),
        (_complaint(site, mine, complainant_role="funder"), 403, "complain_as_yourself"),
        (_complaint(str(uuid.uuid4()), mine), 422, "site_mismatch"),
        (_complaint(site, mine, channel="letter"), 422, "channel_is_web_form"),
    ]
    for body, status, code in refusals:
        refused = await client.post("/complaints", json=body, headers=as_me)
        assert (refused.status_code, refused.json()["code"]) == (status, code), body
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 0
    filed = await client.post("/complaints", json=_complaint(site, mine), headers=as_me)
    assert filed.status_code == 201, filed.text
    assert filed.json()["channel"] == "web_form"

    staff = auth(["site_manager"], [site])
    unnamed = await client.post("/complaints", json=_complaint(site, theirs), headers=staff)
    assert (unnamed.status_code, unnamed.json()["code"]) == (422, "channel_required")
    unknown = await client.post(
        "/complaints", json=_complaint(site, uuid.uuid4(), channel="phone"), headers=staff
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "dossier_not_found")
    recorded = await client.post(
        "/complaints",
        json=_complaint(site, theirs, channel="phone", complainant_role="employer"),
        headers=staff,
    )
    assert recorded.status_code == 201, recorded.text
    register = await client.get("/complaints", headers=auth(["quality_lead"], [site]))
    assert all(c["received_at"].endswith("Z") for c in register.json())
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 2


async def test_bad_input_is_a_4xx_problem(
    api: tuple[httpx.AsyncClient, SurveyService, Harness],
) -> None:
    client, service, _harness = api
    site = str(uuid.uuid4())
    lead = auth(["quality_lead"], [site])
    action: dict[str, object] = {
        "source": "audit",
        "site_id": site,
        "owner_id": "staff-42",
        "description": "Confirmer chaque rendez-vous",
        "due_at": "2026-05-01T00:00:00Z",
    }
    changes: list[dict[str, object]] = [
        {"owner_id": "staff\x00"},
        {"description": "texte\ud800"},
        {"due_at": "0001-01-01T00:00:00Z"},
        {"due_at": "9999-12-31T00:00:00Z"},
        {"due_at": 0},
        {"due_at": "2026-05-01T00:00:00"},
    ]
    for change in changes:
        refused = await client.post(
            "/improvement-actions",
            content=json.dumps({**action, **change}),
            headers={**lead, "content-type": "application/json"},
        )
        assert refused.status_code == 422, (change, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    huge = await client.get(
        "/questionnaires/end_of_bilan/versions/99999999999999999999", headers=lead
    )
    assert huge.status_code == 422, huge.text
    # Large bodies are refused before parsing, without a token and on the public link too.
    big = json.dumps({"answers": {f"k{i}": i for i in range(200_000)}})
    for url, headers in [
        ("/public/surveys/" + "A" * 43 + "/answers", {}),
        ("/improvement-actions", lead),
    ]:
        refused = await client.post(
            url, content=big, headers={**headers, "content-type": "application/json"}
        )
        assert (refused.status_code, refused.json()["code"]) == (413, "content_too_large")
    assert await service.runtime.pool.fetchval("SELECT count(*) FROM improvement_actions") == 0


async def test_guessing_answer_links_is_limited_per_client(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, 1, kafka_bootstrap, public_rate_burst=3, public_rate_per_minute=1)
    await harness.prepare()
    async with harness.running() as running:
        client, _service = running.client, running.service
        for _ in range(3):
            guess = await client.get(f"/public/surveys/{uuid.uuid4().hex}")
            assert guess.status_code == 404, guess.text
        limited = await client.get(f"/public/surveys/{uuid.uuid4().hex}")
        assert limited.status_code == 429, limited.text
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["code"] == "too_many_requests"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        answer = await client.post(
            f"/public/surveys/{uuid.uuid4().hex}/answers", json={"answers": {}}
        )
        assert answer.status_code == 429
        # Signed-in routes are not limited by it.
        lead = auth(["quality_lead"], [str(uuid.uuid4())])
        assert (await client.get("/surveys", headers=lead)).status_code == 200


async def test_an_upheld_objection_stops_the_persons_surveys(
    api: tuple[httpx.AsyncClient, SurveyService, Harness], publisher: Publisher
) -> None:
    _client, service, harness = api
    pool = service.runtime.pool
    site, person = str(uuid.uuid4()), uuid.uuid4()
    first, second = uuid.uuid4(), uuid.uuid4()
    await publisher.complete_bilan(first, person, site, harness.clock.now())

    async def surveyed() -> bool:
        return bool(
            await pool.fetchval("SELECT count(*) FROM surveys WHERE dossier_id = $1", first)
        )

    await eventually(surveyed)
    await publisher.publish(
        ct.DataSubjectRequestFulfilled(
            request_id=uuid.uuid4(),
            subject_id=person,
            kind="objection",
            fulfilled_at=harness.clock.now(),
        ),
        "org",
    )

    async def cancelled() -> bool:
        status = await pool.fetchval("SELECT status FROM surveys WHERE dossier_id = $1", first)
        return bool(status == "cancelled")

    await eventually(cancelled)
    await publisher.complete_bilan(second, person, site, harness.clock.now())

    async def learnt() -> bool:
        state = await pool.fetchval(
            "SELECT state FROM survey_dossiers WHERE dossier_id = $1", second
        )
        return bool(state == "completed")

    await eventually(learnt)
    assert await pool.fetchval("SELECT count(*) FROM surveys WHERE dossier_id = $1", second) == 0
    timers_left = await pool.fetchval(
        "SELECT count(*) FROM timers WHERE timer_key = $1 AND state = 'pending'",
        f"dossier:{first}:six_months",
    )
    assert timers_left == 0
