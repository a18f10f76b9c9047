"""What the dossier learns from the scheduling topic: staff leaving, held time capped at
24 hours, and foreign events that are simply ignored."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared.contracts import SessionHeld, StaffMemberLeft
from tests.integration.dossier.harness import Harness, eventually, produce


async def test_held_time_never_exceeds_24_hours(harness: Harness) -> None:
    h = harness
    await h.staff_known()
    dossier, _ = await h.signed_dossier()
    await h.command(
        f"/dossiers/{dossier}/referent",
        h.as_manager(),
        {"consultant_id": h.consultant, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
    )
    version_read = await h.version(dossier)
    await h.session_held(dossier, "preliminary", 900, counted_total=900)
    # Time counted in the background does not make a person's edit stale.
    await h.call(
        "PUT",
        f"/dossiers/{dossier}/programme",
        h.as_consultant(),
        {"planned_minutes": 1300, "modality": "remote"},
        version=version_read,
    )
    await h.session_held(dossier, "investigation", 700, counted_total=1440)
    # A redelivered or repeated fact is not counted twice, and nothing goes past the cap.
    await h.session_held(dossier, "investigation", 30)
    view = await h.call("GET", f"/dossiers/{dossier}", h.as_manager())
    assert view.json()["held_minutes"] == 1440


async def test_foreign_events_are_ignored_and_leavers_cannot_be_referents(harness: Harness) -> None:
    h = harness
    await h.staff_known()
    foreign = SessionHeld(
        session_id=uuid.uuid4(),
        dossier_id=uuid.uuid4(),
        consultant_id=uuid.uuid4(),
        site_id=uuid.uuid4(),
        phase="investigation",
        modality="remote",
        started_at=h.clock.now() - timedelta(hours=1),
        duration_minutes=60,
    )
    left = StaffMemberLeft(staff_id=uuid.UUID(h.consultant), left_at=h.clock.now())
    await produce(h.bootstrap, [foreign, left], h.site)

    async def left_learnt() -> bool:
        active = await h.service.pool.fetchval(
            "SELECT active FROM staff WHERE staff_id = $1", uuid.UUID(h.consultant)
        )
        return active is False

    await eventually(left_learnt)
    assert await h.service.pool.fetchval("SELECT count(*) FROM dossier_index") == 0
    assert await h.service.pool.fetchval("SELECT count(*) FROM events") == 0

    dossier, _ = await h.signed_dossier()
    refused = await h.command(
        f"/dossiers/{dossier}/referent",
        h.as_manager(),
        {"consultant_id": h.consultant, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
        expect=422,
    )
    assert refused.json()["code"] == "referent_not_eligible"
    await h.command(
        f"/dossiers/{dossier}/referent",
        h.as_manager(),
        {"consultant_id": h.psychologist, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
    )


async def test_disclosure_consent_is_recorded_and_revocable(harness: Harness) -> None:
    h = harness
    dossier, beneficiary = await h.open_dossier()
    ben = h.auth("beneficiary", beneficiary)
    url = f"/dossiers/{dossier}"
    unconsented = await h.command(
        f"{url}/synthesis/disclosures",
        h.as_consultant(),
        {"recipient": "cep_operator"},
        dossier_id=dossier,
        expect=403,
    )
    assert unconsented.json()["code"] == "no_disclosure_consent"
    given = await h.command(
        f"{url}/disclosure-consents", ben, {"recipient": "cep_operator"}, dossier_id=dossier
    )
    assert given.json()["events"] == ["ThirdPartyDisclosureConsentGiven"]
    view = await h.call("GET", url, ben)
    assert view.json()["disclosure_consents"] == ["cep_operator"]
    nothing_yet = await h.command(
        f"{url}/synthesis/disclosures",
        h.as_consultant(),
        {"recipient": "cep_operator"},
        dossier_id=dossier,
        expect=409,
    )
    assert nothing_yet.json()["code"] == "no_synthesis_delivered"
    await h.command(
        f"{url}/disclosure-consents/cep_operator", ben, dossier_id=dossier, method="DELETE"
    )
    again = await h.command(
        f"{url}/disclosure-consents/cep_operator",
        ben,
        dossier_id=dossier,
        method="DELETE",
        expect=409,
    )
    assert again.json()["code"] == "no_consent"
