"""The reporting worker and API against the real Kafka and PostgreSQL.

With the `aiokafka` engine, events go to the shared contract topics with fresh ids and a
made-up site, so other tests' events (which the worker also reads and must tolerate) never
change the figures asserted here. The Faust engine runs the same scenario on throwaway topics:
it processes a few thousand events per second, and the shared topics hold hundreds of
thousands of other tests' events.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.reporting.rebuild import rebuild
from shared.contracts import (
    ComplaintReceived,
    ConventionSigned,
    DeontologyInformationAcknowledged,
    DossierAbandoned,
    DossierCompleted,
    DossierOpened,
    PhaseStarted,
    SessionHeld,
    StaffMemberOnboarded,
    SurveyAnswered,
    SurveySent,
)
from tests.unit.contracts.examples import example

from .conftest import Producer, auth, eventually, make_settings

T = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
QUERY = {"from": "2025-01-01", "to": "2026-01-01"}


async def publish_history(producer: Producer, site: str) -> dict[str, uuid.UUID]:
    """Two dossiers of `site`: one completed (its answer published before its completion,
    on another topic), one abandoned; a complaint; a staff member; one redelivered event."""
    done, dropped, survey = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # Cross-topic disorder: the survey answer and the session come before the dossier events.
    await producer.publish(
        example(
            SurveySent,
            survey_id=survey,
            dossier_id=done,
            campaign="end_of_bilan",
            sent_at=T + timedelta(days=30),
            expires_at=T + timedelta(days=60),
        ),
        site=site,
    )
    await producer.publish(
        example(
            SurveyAnswered,
            survey_id=survey,
            dossier_id=done,
            campaign="end_of_bilan",
            satisfaction_score=4,
            answered_at=T + timedelta(days=31),
        ),
        site=site,
    )
    await producer.publish(
        example(
            SessionHeld,
            session_id=uuid.uuid4(),
            dossier_id=done,
            site_id=site,
            phase="preliminary",
            started_at=T + timedelta(days=5),
            duration_minutes=120,
        ),
        site=site,
    )
    for dossier in (done, dropped):
        await producer.publish(
            example(
                DossierOpened,
                dossier_id=dossier,
                site_id=site,
                enquiry_received_at=T,
                opened_at=T,
            ),
            site=site,
        )
        await producer.publish(
            example(
                PhaseStarted,
                dossier_id=dossier,
                phase="preliminary",
                started_at=T + timedelta(days=5),
            ),
            site=site,
        )
    await producer.publish(
        example(DeontologyInformationAcknowledged, dossier_id=done, acknowledged_at=T),
        site=site,
    )
    await producer.publish(
        example(ConventionSigned, dossier_id=done, signed_at=T + timedelta(days=4)), site=site
    )
    completed_id = await producer.publish(
        example(
            DossierCompleted,
            dossier_id=done,
            held_minutes=120,
            completed_at=T + timedelta(days=29),
        ),
        site=site,
    )
    # A redelivery: the same ce_id again.
    await producer.publish(
        example(
            DossierCompleted,
            dossier_id=done,
            held_minutes=120,
            completed_at=T + timedelta(days=29),
        ),
        site=site,
        event_id=completed_id,
    )
    await producer.publish(
        example(
            DossierAbandoned,
            dossier_id=dropped,
            reason_category="health",
            phase_at_abandon="preliminary",
            abandoned_at=T + timedelta(days=10),
        ),
        site=site,
    )
    await producer.publish(
        example(
            ComplaintReceived,
            complaint_id=uuid.uuid4(),
            site_id=site,
            received_at=T + timedelta(days=3),
        ),
        site=site,
    )
    await producer.publish(
        example(
            StaffMemberOnboarded,
            staff_id=uuid.uuid4(),
            roles=["psychologist"],
            site_ids=[site],
            onboarded_at=T - timedelta(days=300),
        ),
        site=site,
    )
    return {"done": done, "dropped": dropped}


async def indicators(client: httpx.AsyncClient, site: str) -> dict[str, Any]:
    response = await client.get(
        "/v1/indicators", params={**QUERY, "site": site}, headers=auth(["auditor"])
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("engine", ["aiokafka", "faust"])
async def test_events_on_the_topics_appear_in_the_indicators_and_a_rebuild_agrees(
    engine: str,
    db_dsn: str,
    kafka_bootstrap: str,
    producer: Producer,
    new_topic: Any,
    start_reporting: Any,
) -> None:
    site = str(uuid.uuid4())
    topics: dict[str, Any] = {}
    if engine == "faust":
        names = [await new_topic(6) for _ in range(3)]
        topics = dict(
            zip(("dossier_topic", "scheduling_topic", "survey_topic"), names, strict=True)
        )
        producer.routes = dict(zip(("dossier", "scheduling", "survey"), names, strict=True))
    settings = make_settings(db_dsn, kafka_bootstrap, worker_engine=engine, **topics)
    dossiers = await publish_history(producer, site)
    async with start_reporting(settings) as running:
        client = running.client

        async def all_in() -> bool:
            figures = (await indicators(client, site))["indicators"]
            return bool(
                figures["bilans_completed"]["value"] == 1
                and figures["bilans_abandoned"]["value"] == 1
                and figures["satisfaction_mean"]["denominator"] == 1
                and figures["complaints_received"]["value"] == 1
                and figures["team_composition"]["value"][site]["active_staff"] == 1
                and figures["beneficiaries_started"]["value"] == 2
            )

        await eventually(all_in)
        body = await indicators(client, site)
        figures = body["indicators"]
        assert body["site"] == site
        assert body["from"] == "2025-01-01"
        assert figures["abandonment_rate"] == {"value": 0.5, "numerator": 1, "denominator": 2}
        assert figures["abandonment_causes"]["value"]["by_reason_category"]["health"] == 1
        assert figures["satisfaction_rate"] == {"value": 1.0, "numerator": 1, "denominator": 1}
        assert figures["survey_response_rate"]["value"] == 1.0
        assert figures["access_delay_days_median"] == {"value": 5.0}
        assert figures["held_hours_mean"]["value"] == 2.0
        assert figures["convention_before_first_session_rate"]["value"] == 1.0
        assert figures["deontology_before_first_session_rate"]["value"] == 1.0
        assert figures["team_composition"]["value"][site]["has_psychologist"] is True
        # Another site sees none of it.
        other = (await indicators(client, str(uuid.uuid4())))["indicators"]
        assert other["bilans_completed"]["value"] == 0

        checklist = await client.get(
            f"/v1/dossiers/{dossiers['done']}/checklist", headers=auth(["quality_lead"])
        )
        assert checklist.status_code == 200
        checks = checklist.json()["checks"]
        assert checks["convention_before_first_session"]["holds"] is True
        assert checks["end_of_bilan_survey_sent"]["holds"] is True
        assert checks["three_phases_completed"]["holds"] is False

        csv = await client.get(
            "/v1/indicators.csv", params={**QUERY, "site": site}, headers=auth(["admin"])
        )
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0] == "from,to,site,indicator,value,numerator,denominator"
        assert f"2025-01-01,2026-01-01,{site},abandonment_rate,0.5,1,2" in lines
        assert f"2025-01-01,2026-01-01,{site},bilans_completed,1,," in lines

        before = running.service.projector.generation
        rebuilding = asyncio.create_task(rebuild(settings))
        served_meanwhile = 0
        while not rebuilding.done():
            # Queries keep being answered, from the old generation, while the rebuild runs.
            during = await indicators(client, site)
            assert during["indicators"] == body["indicators"]
            served_meanwhile += 1
            await asyncio.sleep(0.05)
        result = await rebuilding
        assert served_meanwhile > 0
        assert result.previous == before
        assert result.generation != before

        async def switched() -> bool:
            status = await client.get("/v1/status", headers=auth(["admin"]))
            return bool(status.json()["generation"] == result.generation)

        await eventually(switched)
        rebuilt = await indicators(client, site)
        assert rebuilt["indicators"] == body["indicators"]

    # A restart resumes from the persisted projection and positions.
    async with start_reporting(settings) as running:
        assert running.service.projector.generation == result.generation
        again = await indicators(running.client, site)
        assert again["indicators"] == body["indicators"]
        status = (await running.client.get("/v1/status", headers=auth(["auditor"]))).json()
        assert {p["topic"] for p in status["partitions"]} == set(settings.topics)
        assert all(p["position"] > 0 for p in status["partitions"] if p["end_offset"] > 0)


async def test_access_rules_and_bad_queries(
    db_dsn: str, kafka_bootstrap: str, producer: Producer, start_reporting: Any
) -> None:
    site, other_site = str(uuid.uuid4()), str(uuid.uuid4())
    dossiers = await publish_history(producer, site)
    settings = make_settings(db_dsn, kafka_bootstrap, worker_engine="aiokafka")
    async with start_reporting(settings) as running:
        client = running.client
        url = f"/v1/dossiers/{dossiers['done']}/checklist"

        async def seen() -> bool:
            response = await client.get(url, headers=auth(["auditor"]))
            return response.status_code == 200 and bool(response.json()["site_id"] == site)

        await eventually(seen)
        cases = [
            (client.get("/v1/indicators", params=QUERY), 401, "unauthenticated"),
            (
                client.get("/v1/indicators", params=QUERY, headers=auth(["consultant"])),
                403,
                "forbidden",
            ),
            (
                client.get("/v1/indicators", params=QUERY, headers=auth(["auditor"], [site])),
                403,
                "site_required",
            ),
            (
                client.get(
                    "/v1/indicators",
                    params={**QUERY, "site": other_site},
                    headers=auth(["auditor"], [site]),
                ),
                403,
                "site_forbidden",
            ),
            (
                client.get(
                    "/v1/indicators",
                    params={"from": "2025-02-01", "to": "2025-02-01"},
                    headers=auth(["auditor"]),
                ),
                400,
                "invalid_period",
            ),
            (
                client.get(
                    "/v1/indicators",
                    params={"from": "2025-13-01", "to": "2026-01-01"},
                    headers=auth(["auditor"]),
                ),
                422,
                "invalid_request",
            ),
            (
                client.get(
                    "/v1/indicators.csv",
                    params={**QUERY, "site": "not-a-site"},
                    headers=auth(["auditor"]),
                ),
                422,
                "invalid_request",
            ),
            (client.get(url, headers=auth(["auditor"], [other_site])), 404, "dossier_not_found"),
            (
                client.get(f"/v1/dossiers/{uuid.uuid4()}/checklist", headers=auth(["auditor"])),
                404,
                "dossier_not_found",
            ),
            (client.get("/v1/status", headers=auth(["beneficiary"])), 403, "forbidden"),
        ]
        for request, status, code in cases:
            response = await request
            assert (response.status_code, response.json()["code"]) == (status, code)
            assert response.headers["content-type"] == "application/problem+json"
        own = await client.get(url, headers=auth(["auditor"], [site]))
        assert own.status_code == 200
        scoped = await client.get(
            "/v1/indicators", params={**QUERY, "site": site}, headers=auth(["auditor"], [site])
        )
        assert scoped.json()["indicators"]["bilans_completed"]["value"] == 1
