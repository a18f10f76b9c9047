"""Complaints register and improvement actions over HTTP, with real PostgreSQL and Kafka:
roles, sites, deadlines, overdue lists, optimistic concurrency, and what reaches the topic."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from services.survey.api.deps import SurveyService
from shared import contracts as ct
from tests.integration.kafka_reading import end_offsets, read_envelopes
from tests.integration.survey.harness import SURVEY_TOPIC, Harness, auth

SITE = str(uuid.uuid4())
OTHER_SITE = str(uuid.uuid4())
DESCRIPTION = "M. Lefebvre n'a jamais reçu de réponse à ses appels"


@pytest.fixture
async def api(
    db_dsn: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[httpx.AsyncClient, SurveyService, Harness]]:
    harness = Harness(db_dsn, 1, kafka_bootstrap)  # no mail in these tests
    await harness.prepare()
    async with harness.running() as running:
        client, service = running.client, running.service
        yield client, service, harness


def _complaint(**changes: object) -> dict[str, object]:
    return {
        "site_id": SITE,
        # A complaint about no dossier in particular: one about a dossier needs the dossier
        # known from its events (tests/integration/survey/test_trust.py).
        "dossier_id": None,
        "complainant_role": "beneficiary",
        "category": "organisation",
        "channel": "email",
        "description": DESCRIPTION,
        **changes,
    }


async def test_complaint_goes_through_its_steps_and_is_published_without_its_text(
    api: tuple[httpx.AsyncClient, SurveyService, Harness], kafka_bootstrap: str
) -> None:
    client, service, harness = api
    start = await end_offsets(kafka_bootstrap, SURVEY_TOPIC)
    lead = auth(["quality_lead"], [SITE])
    # Monday 2 March 2026, 10:00 Paris time.
    # Received by e-mail, recorded by the site's manager, who follows it as its recorder.
    filer = auth(["site_manager"], [SITE])
    filed = await client.post("/complaints", json=_complaint(), headers=filer)
    assert filed.status_code == 201, filed.text
    body = filed.json()
    complaint_id = body["complaint_id"]
    assert body["acknowledge_due_at"] == "2026-03-04T09:00:00Z"
    assert body["answer_due_at"] == "2026-03-17T09:00:00Z"
    assert filed.headers["etag"] == '"1"'

    url = f"/complaints/{complaint_id}"
    # The complainant follows it (no texts); nobody else through that route.
    mine = await client.get(f"{url}/status", headers=filer)
    assert (mine.status_code, mine.json()["status"]) == (200, "received")
    assert "description" not in mine.json() or mine.json()["description"] is None
    stranger = auth(["beneficiary"], [SITE])
    assert (await client.get(f"{url}/status", headers=stranger)).status_code == 404
    assert (await client.get(url, headers=auth(["quality_lead"], [OTHER_SITE]))).status_code == 404
    assert (await client.get(url, headers=auth(["consultant"], [SITE]))).status_code == 403
    detail = await client.get(url, headers=lead)
    assert detail.json()["description"] == DESCRIPTION

    no_version = await client.post(f"{url}/acknowledgement", json={}, headers=lead)
    assert (no_version.status_code, no_version.json()["code"]) == (428, "precondition_required")
    too_early = await client.post(
        f"{url}/answer", json={"response": "Désolés."}, headers={**lead, "If-Match": '"1"'}
    )
    assert (too_early.status_code, too_early.json()["code"]) == (409, "complaint_not_acknowledged")

    harness.clock.advance(timedelta(days=3))  # Thursday: acknowledgement is late
    overdue = await client.get("/complaints/overdue", headers=lead)
    assert [c["complaint_id"] for c in overdue.json()] == [complaint_id]
    assert overdue.json()[0]["acknowledgement_overdue"] is True
    assert (
        await client.get("/complaints/overdue", headers=auth(["admin"], [OTHER_SITE]))
    ).json() == []

    acknowledged = await client.post(
        f"{url}/acknowledgement", json={}, headers={**lead, "If-Match": '"1"'}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    stale = await client.post(
        f"{url}/acknowledgement", json={}, headers={**lead, "If-Match": '"1"'}
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "concurrency_conflict")
    future = await client.post(
        f"{url}/answer",
        json={"response": "Nous avons revu l'accueil téléphonique.", "at": "2030-01-01T00:00:00Z"},
        headers={**lead, "If-Match": '"2"'},
    )
    assert (future.status_code, future.json()["code"]) == (422, "time_in_future")
    answered = await client.post(
        f"{url}/answer",
        json={"response": "Nous avons revu l'accueil téléphonique."},
        headers={**lead, "If-Match": '"2"'},
    )
    assert answered.status_code == 200
    closed = await client.post(
        f"{url}/closure", json={"resolution": "upheld"}, headers={**lead, "If-Match": '"3"'}
    )
    assert closed.json()["status"] == "closed"
    assert (await client.get("/complaints/overdue", headers=lead)).json() == []
    assert SITE in str((await client.get("/complaints", headers=lead)).json())

    received = await read_envelopes(
        kafka_bootstrap,
        start,
        keep=lambda e: e.subject == complaint_id,
        done=lambda got: len(got) >= 4,
        timeout_s=30,
    )
    assert [type(e.data).__name__ for e in received] == [
        "ComplaintReceived",
        "ComplaintAcknowledged",
        "ComplaintAnswered",
        "ComplaintClosed",
    ]
    assert [e.sequence for e in received] == [1, 2, 3, 4]
    first = received[0].data
    assert isinstance(first, ct.ComplaintReceived)
    assert (str(first.site_id), first.category, first.complainant_role) == (
        SITE,
        "organisation",
        "beneficiary",
    )
    for e in received:
        assert "Lefebvre" not in e.data.model_dump_json()
        assert "accueil" not in e.data.model_dump_json()
    assert DESCRIPTION not in str(await service.runtime.pool.fetch("SELECT data FROM events"))


async def test_bad_complaints_are_refused_and_change_nothing(
    api: tuple[httpx.AsyncClient, SurveyService, Harness],
) -> None:
    client, service, _ = api
    anyone = auth(["consultant"], [SITE])
    wrong_site = await client.post(
        "/complaints", json=_complaint(), headers=auth(["consultant"], [OTHER_SITE])
    )
    assert wrong_site.status_code == 403
    bad_category = await client.post(
        "/complaints", json=_complaint(category="vibes"), headers=anyone
    )
    assert (bad_category.status_code, bad_category.json()["code"]) == (422, "invalid_request")
    assert "vibes" not in bad_category.text
    blank = await client.post("/complaints", json=_complaint(description="   "), headers=anyone)
    assert blank.status_code == 422
    future = await client.post(
        "/complaints", json=_complaint(received_at="2031-01-01T00:00:00Z"), headers=anyone
    )
    assert (future.status_code, future.json()["code"]) == (422, "time_in_future")
    assert (await client.post("/complaints", json=_complaint())).status_code == 401
    assert await service.runtime.pool.fetchval("SELECT count(*) FROM events") == 0
    assert await service.runtime.pool.fetchval("SELECT count(*) FROM data_keys") == 0


async def test_improvement_actions_open_complete_and_fall_overdue(
    api: tuple[httpx.AsyncClient, SurveyService, Harness], kafka_bootstrap: str
) -> None:
    client, _service, harness = api
    start = await end_offsets(kafka_bootstrap, SURVEY_TOPIC)
    lead = auth(["quality_lead"], [SITE])
    due = (harness.clock.now() + timedelta(days=30)).isoformat()
    body = {
        "source": "complaint",
        "source_id": str(uuid.uuid4()),
        "site_id": SITE,
        "owner_id": "staff-42",
        "description": "Rappeler chaque bénéficiaire sous 24 h",
        "due_at": due,
    }
    assert (
        await client.post("/improvement-actions", json=body, headers=auth(["site_manager"], [SITE]))
    ).status_code == 403
    assert (
        await client.post("/improvement-actions", json={**body, "source_id": None}, headers=lead)
    ).json()["code"] == "source_id_required"
    org_wide = {**body, "source": "audit", "source_id": None, "site_id": None}
    assert (
        await client.post("/improvement-actions", json=org_wide, headers=lead)
    ).status_code == 403
    opened = await client.post("/improvement-actions", json=body, headers=lead)
    assert opened.status_code == 201, opened.text
    action_id = opened.json()["action_id"]
    audit = await client.post("/improvement-actions", json=org_wide, headers=auth(["admin"]))
    assert audit.status_code == 201

    harness.clock.advance(timedelta(days=31))
    late = await client.get("/improvement-actions/overdue", headers=lead)
    assert [a["action_id"] for a in late.json()] == [action_id], "org-wide actions need all sites"
    everything = await client.get("/improvement-actions/overdue", headers=auth(["admin"]))
    assert len(everything.json()) == 2
    detail = await client.get(f"/improvement-actions/{action_id}", headers=lead)
    assert detail.json()["description"] == body["description"]
    assert detail.json()["overdue"] is True
    hidden = await client.get(f"/improvement-actions/{audit.json()['action_id']}", headers=lead)
    assert hidden.status_code == 404
    done = await client.post(
        f"/improvement-actions/{action_id}/completion", json={}, headers={**lead, "If-Match": '"1"'}
    )
    assert done.status_code == 200
    assert done.json()["overdue"] is False
    twice = await client.post(
        f"/improvement-actions/{action_id}/completion", json={}, headers={**lead, "If-Match": '"2"'}
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "action_already_completed")
    assert (await client.get("/improvement-actions/overdue", headers=lead)).json() == []

    ids = {action_id, audit.json()["action_id"]}
    received = await read_envelopes(
        kafka_bootstrap, start, keep=lambda e: e.subject in ids, done=lambda got: len(got) >= 3
    )
    by_type = {type(e.data).__name__: e for e in received if e.subject == action_id}
    opened_event = by_type["ImprovementActionOpened"].data
    assert isinstance(opened_event, ct.ImprovementActionOpened)
    assert opened_event.source == "complaint"
    assert str(opened_event.site_id) == SITE
    assert by_type["ImprovementActionCompleted"].sequence == 2
    org_event = next(e for e in received if e.subject != action_id)
    assert org_event.site_id == "org"
    for e in received:
        assert "bénéficiaire" not in e.data.model_dump_json()


async def test_questionnaires_are_versioned_and_edited_by_quality_leads(
    api: tuple[httpx.AsyncClient, SurveyService, Harness],
) -> None:
    client, _, _ = api
    current = await client.get("/questionnaires/end_of_bilan", headers=auth(["consultant"]))
    assert current.status_code == 200
    assert current.headers["etag"] == '"1"'
    new = {
        "questions": [
            {"code": "overall_satisfaction", "kind": "satisfaction", "label": "Satisfait(e) ?"},
            {"code": "waiting_time", "kind": "score", "label": "Délai d'accès", "max_score": 5},
        ]
    }
    url = "/questionnaires/end_of_bilan/versions"
    lead = auth(["quality_lead"], ["*"])
    assert (
        await client.post(url, json=new, headers={**auth(["consultant"]), "If-Match": '"1"'})
    ).status_code == 403
    assert (await client.post(url, json=new, headers=lead)).status_code == 428
    invalid = await client.post(
        url, json={"questions": new["questions"][1:]}, headers={**lead, "If-Match": '"1"'}
    )
    assert (invalid.status_code, invalid.json()["code"]) == (422, "satisfaction_question_required")
    published = await client.post(url, json=new, headers={**lead, "If-Match": '"1"'})
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 2
    stale = await client.post(url, json=new, headers={**lead, "If-Match": '"1"'})
    assert (stale.status_code, stale.json()["code"]) == (409, "questionnaire_changed")
    again = await client.get("/questionnaires/end_of_bilan", headers=auth(["consultant"]))
    assert [q["code"] for q in again.json()["questions"]] == [
        "overall_satisfaction",
        "waiting_time",
    ]
    first = await client.get("/questionnaires/end_of_bilan/versions/1", headers=auth(["auditor"]))
    assert len(first.json()["questions"]) == 7
