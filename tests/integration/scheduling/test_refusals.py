"""Refusals are 4xx problem documents, never a 500, and nothing changes: a change to a session
that is no longer scheduled, text the system does not accept, implausible or non-RFC 3339
times, non-integer numbers; a caller who may not act learns nothing from a stale version."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx

from tests.integration.scheduling.harness import (
    DossierService,
    Harness,
    auth,
    eventually,
    if_match,
    onboard,
    setup_site,
)


async def _known_dossier(
    svc: Any, dossiers: DossierService, site_id: str, consultant: str, now: Any
) -> uuid.UUID:
    dossier_id = uuid.uuid4()
    await dossiers.open(dossier_id, uuid.uuid4(), site_id, now - timedelta(days=20))
    await dossiers.assign_referent(dossier_id, consultant, now - timedelta(days=20))
    await dossiers.sign_convention(dossier_id, now - timedelta(days=10))

    async def known() -> bool:
        return bool(
            await svc.runtime.pool.fetchval(
                "SELECT convention_signed_at IS NOT NULL FROM dossiers WHERE dossier_id = $1",
                dossier_id,
            )
        )

    await eventually(known)
    return dossier_id


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def test_refused_changes_bad_text_and_bad_numbers_are_4xx(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    async with harness.running() as svc:
        client = svc.client
        site_id, _room = await setup_site(client)
        consultant = await onboard(client, site_id)
        me = auth(["consultant"], [site_id], subject=consultant)
        dossier_id = await _known_dossier(
            svc, DossierService(kafka_bootstrap), site_id, consultant, clock.now()
        )
        body = {
            "phase": "investigation",
            "modality": "remote",
            "consultant_id": consultant,
            "starts_at": (clock.now() + timedelta(hours=1)).isoformat(),
            "planned_minutes": 60,
        }
        url = f"/dossiers/{dossier_id}/sessions"
        session = await client.post(url, json=body, headers=me)
        assert session.status_code == 201, session.text
        session_url = f"/sessions/{session.json()['session_id']}"
        clock.advance(timedelta(hours=2))
        held = await client.post(
            f"{session_url}/held",
            json={
                "started_at": (clock.now() - timedelta(hours=1)).isoformat(),
                "duration_minutes": 60,
            },
            headers={**me, **if_match(1)},
        )
        assert held.status_code == 200, held.text
        version = held.json()["version"]

        # 11: every refused change of a session that is no longer scheduled is a 409.
        for path, change in [
            ("no-show", None),
            ("cancellation", {"cancelled_by": "beneficiary", "reason": "illness"}),
            ("held", {"started_at": clock.now().isoformat(), "duration_minutes": 30}),
            (
                "reschedule",
                {
                    "starts_at": (clock.now() + timedelta(days=2)).isoformat(),
                    "requested_by": "beneficiary",
                },
            ),
        ]:
            refused = await client.post(
                f"{session_url}/{path}", json=change, headers={**me, **if_match(version)}
            )
            problem = _problem(refused, 409)
            assert (problem["code"], problem["session_status"]) == (
                "session_not_scheduled",
                "held",
            ), path
        assert (await client.get(session_url, headers=me)).json()["version"] == version

        # 12: text with a NUL (or another control character, or a lone surrogate).
        manager = auth(["site_manager"], [site_id])
        for name in ["B\x0012", "B\x0b12", "B\ud80012"]:
            refused = await client.post(
                f"/sites/{site_id}/rooms",
                # json.dumps escapes the surrogate as \\ud800, as a client would send it.
                content=json.dumps({"name": name, "confidential": True}),
                headers={**manager, "content-type": "application/json"},
            )
            assert _problem(refused, 422)["errors"][0]["loc"] == ["body", "name"]
        admin = auth(["admin"], ["*"])
        refused = await client.post(
            "/sites", json={"name": "Lyon\x00", "region": "ara"}, headers=admin
        )
        _problem(refused, 422)
        accepted = await client.post(
            f"/sites/{site_id}/rooms",
            json={"name": "Salle\tB 12 – é", "confidential": True},
            headers=manager,
        )
        assert accepted.status_code == 201, accepted.text

        # 13: times outside the plausible window, numbers as times, booleans as numbers.
        for starts_at in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:00:00Z",
            "1970-01-02T00:00:00Z",
            0,
            -1,
            1.5,
        ]:
            refused = await client.post(url, json={**body, "starts_at": starts_at}, headers=me)
            assert _problem(refused, 422)["errors"][0]["loc"] == ["body", "starts_at"], starts_at
        refused = await client.post(url, json={**body, "planned_minutes": True}, headers=me)
        _problem(refused, 422)
        for first, last in [("0001-01-01", "0001-01-03"), ("9999-12-29", "9999-12-31"), ("0", "1")]:
            refused = await client.get(
                f"/staff/{consultant}/free-slots", params={"from": first, "to": last}, headers=me
            )
            _problem(refused, 422)
        training = await client.get(f"/staff/{consultant}", headers=manager)
        refused = await client.post(
            f"/staff/{consultant}/trainings",
            json={
                "title_code": "deontologie",
                "hours": True,
                "completed_at": "2026-01-20T17:00:00Z",
            },
            headers={**manager, **if_match(training.json()["version"])},
        )
        _problem(refused, 422)


async def test_another_sites_caller_learns_nothing_from_a_stale_version(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    clock = harness.clock
    async with harness.running() as svc:
        client = svc.client
        site_id, _room = await setup_site(client)
        other_site, _other_room = await setup_site(client)
        consultant = await onboard(client, site_id)
        stranger = await onboard(client, other_site)
        me = auth(["consultant"], [site_id], subject=consultant)
        dossier_id = await _known_dossier(
            svc, DossierService(kafka_bootstrap), site_id, consultant, clock.now()
        )
        session = await client.post(
            f"/dossiers/{dossier_id}/sessions",
            json={
                "phase": "investigation",
                "modality": "remote",
                "consultant_id": consultant,
                "starts_at": (clock.now() + timedelta(hours=1)).isoformat(),
                "planned_minutes": 60,
            },
            headers=me,
        )
        assert session.status_code == 201, session.text
        session_url = f"/sessions/{session.json()['session_id']}"
        clock.advance(timedelta(hours=2))
        elsewhere = auth(["consultant"], [other_site], subject=stranger)
        same_site_not_mine = auth(["consultant"], [site_id], subject=str(uuid.uuid4()))
        for path in ["no-show", "signatures"]:
            body: dict[str, str] | None = None if path == "no-show" else {}
            unknown = await client.post(
                f"/sessions/{uuid.uuid4()}/{path}",
                json=body,
                headers={**elsewhere, **if_match(999)},
            )
            stale = await client.post(
                f"{session_url}/{path}", json=body, headers={**elsewhere, **if_match(999)}
            )
            assert (
                (stale.status_code, stale.json()["code"])
                == (unknown.status_code, unknown.json()["code"])
                == (404, "session_not_found")
            ), path
        not_mine = await client.post(
            f"{session_url}/no-show", headers={**same_site_not_mine, **if_match(999)}
        )
        assert (not_mine.status_code, not_mine.json()["code"]) == (403, "not_your_session")
        staff_manager_elsewhere = auth(["site_manager"], [other_site])
        stale_staff = await client.post(
            f"/staff/{consultant}/leaving",
            json={"left_at": "2026-06-30T18:00:00Z"},
            headers={**staff_manager_elsewhere, **if_match(999)},
        )
        assert stale_staff.status_code == 404, stale_staff.text


async def test_psychometric_tests_need_a_psychologists_title_and_its_number(
    db_dsn: str, kafka_bootstrap: str
) -> None:
    harness = Harness(db_dsn, kafka_bootstrap)
    async with harness.running() as svc:
        client = svc.client
        site_id, _room = await setup_site(client)
        consultant = await onboard(client, site_id)
        manager = auth(["site_manager"], [site_id])
        url = f"/staff/{consultant}/qualifications"
        when = "2026-01-02T09:00:00Z"
        version = (await client.get(f"/staff/{consultant}", headers=manager)).json()["version"]
        rpps = {"registry": "rpps", "number": "10001234567"}
        cases: list[tuple[dict[str, object], str]] = [
            (
                {"qualification": "master_rh", "habilitations": ["psychometric_tests"]},
                "psychologist_title_required",
            ),
            (
                {
                    "qualification": "master_rh",
                    "habilitations": ["psychometric_tests"],
                    "psychologist_registration": rpps,
                },
                "psychologist_title_required",
            ),
            (
                {"qualification": "master_psychologie", "habilitations": ["psychometric_tests"]},
                "psychologist_registration_required",
            ),
            (
                {
                    "qualification": "master_psychologie",
                    "habilitations": ["psychometric_tests"],
                    "psychologist_registration": {"registry": "adeli", "number": "10001234567"},
                },
                "invalid_request",
            ),
            (
                {
                    "qualification": "psychologue",
                    "habilitations": ["psychometric_tests"],
                    "psychologist_registration": {"registry": "adeli", "number": "69930123"},
                },
                "invalid_request",
            ),
        ]
        for body, code in cases:
            refused = await client.post(
                url, json={**body, "recorded_at": when}, headers={**manager, **if_match(version)}
            )
            assert (refused.status_code, refused.json()["code"]) == (422, code), body
        staff = await client.get(f"/staff/{consultant}", headers=manager)
        assert (staff.json()["version"], staff.json()["habilitations"]) == (version, [])
        accepted = await client.post(
            url,
            json={
                "qualification": "master_psychologie",
                "habilitations": ["psychometric_tests"],
                "psychologist_registration": rpps,
                "recorded_at": when,
            },
            headers={**manager, **if_match(version)},
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["habilitations"] == ["psychometric_tests"]
        # The number is personal data: sealed in the store (the contract's event has no field
        # for it).
        stored = await svc.runtime.pool.fetchval(
            "SELECT data::text FROM events WHERE event_type = 'QualificationRecorded'"
        )
        assert "10001234567" not in stored
        # A psychologue with a good ADELI number (9 digits) gets it too.
        psychologist = await onboard(client, site_id)
        version = (await client.get(f"/staff/{psychologist}", headers=manager)).json()["version"]
        adeli = await client.post(
            f"/staff/{psychologist}/qualifications",
            json={
                "qualification": "psychologue",
                "habilitations": ["psychometric_tests"],
                "psychologist_registration": {"registry": "adeli", "number": "699301234"},
                "recorded_at": when,
            },
            headers={**manager, **if_match(version)},
        )
        assert adeli.status_code == 200, adeli.text
        assert adeli.json()["habilitations"] == ["psychometric_tests"]
