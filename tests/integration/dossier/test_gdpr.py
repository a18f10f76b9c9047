"""Data-subject rights over HTTP: access export, rectification, erasure, refusal, and the
internal contact endpoint other services call at send time."""

from __future__ import annotations

import uuid
from datetime import timedelta

from deploy.tokens import dev_token
from shared.contracts import (
    BeneficiaryErased,
    DataSubjectRequestFulfilled,
    DataSubjectRequestReceived,
)
from tests.integration.dossier.harness import IDENTITY, Harness, eventually
from tests.integration.kafka_reading import end_offsets, read_envelopes

TOPIC = "bilan.dossier.events"


def service_token() -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(['service'], ['*'], subject='internal')}"}


async def _request(h: Harness, beneficiary: str, body: dict[str, str], who: dict[str, str]) -> str:
    current = await h.call("GET", f"/beneficiaries/{beneficiary}", who)
    response = await h.call(
        "POST",
        f"/beneficiaries/{beneficiary}/data-requests",
        who,
        body,
        expect=201,
        version=int(current.headers["etag"].strip('"')),
    )
    return str(response.headers["location"].rsplit("/", 1)[1])


async def _answer(
    h: Harness,
    beneficiary: str,
    request: str,
    action: str,
    body: dict[str, str] | None = None,
    *,
    expect: int = 200,
) -> dict[str, object]:
    admin = h.auth("admin", "dpo")
    current = await h.call("GET", f"/beneficiaries/{beneficiary}", admin)
    response = await h.call(
        "POST",
        f"/beneficiaries/{beneficiary}/data-requests/{request}/{action}",
        admin,
        body or {},
        expect=expect,
        version=int(current.headers["etag"].strip('"')),
    )
    result: dict[str, object] = response.json()
    return result


async def test_access_export_holds_everything(harness: Harness) -> None:
    h = harness
    await h.staff_known()
    dossier, beneficiary = await h.signed_dossier("individual_contract")
    ben = h.auth("beneficiary", beneficiary)
    await h.command(
        f"/dossiers/{dossier}/referent",
        h.as_manager(),
        {"consultant_id": h.consultant, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
    )
    # A read of content by the consultant is logged and shows in the export.
    await h.call("GET", f"/dossiers/{dossier}/content", h.as_consultant())
    request = await _request(h, beneficiary, {"kind": "access"}, ben)
    await _answer(h, beneficiary, request, "fulfilment")

    export = (await h.call("GET", f"/beneficiaries/{beneficiary}/export", ben)).json()
    assert export["identity"] == {**IDENTITY, "phone": "+33 6 12 34 56 78"}
    (held,) = export["dossiers"]
    assert held["dossier_id"] == dossier
    assert held["content"]["needs_analysis"] == "Burn-out in accounting; wants to teach"
    assert held["convention"]["status"] == "signed"
    assert [e["type"] for e in held["history"]][:2] == [
        "DossierOpened",
        "DeontologyInformationAcknowledged",
    ]
    assert export["data_requests"][0]["status"] == "fulfilled"
    assert [(e["reader_id"], e["what"]) for e in export["access_log"]] == [
        (h.consultant, "working_documents")
    ]
    # Nobody else gets this export, not even an administrator.
    for other in (h.auth("beneficiary"), h.auth("admin"), h.as_consultant()):
        await h.call("GET", f"/beneficiaries/{beneficiary}/export", other, expect=404)
    log = await h.call("GET", f"/beneficiaries/{beneficiary}/access-log", ben)
    assert [e["what"] for e in log.json()] == ["working_documents", "export"]


async def test_rectification_changes_the_contact_other_services_get(harness: Harness) -> None:
    h = harness
    dossier, beneficiary = await h.open_dossier()
    contact = await h.call("GET", f"/internal/dossiers/{dossier}/contact", service_token())
    assert contact.json() == {**IDENTITY, "phone": "+33 6 12 34 56 78"}
    await h.call("GET", f"/internal/dossiers/{dossier}/contact", h.as_manager(), expect=403)
    await h.call("GET", f"/internal/dossiers/{uuid.uuid4()}/contact", service_token(), expect=404)

    ben = h.auth("beneficiary", beneficiary)
    bad = await h.call(
        "POST",
        f"/beneficiaries/{beneficiary}/data-requests",
        ben,
        {"kind": "rectification"},
        expect=422,
        version=1,
    )
    assert bad.json()["code"] == "rectification_changes"
    request = await _request(
        h, beneficiary, {"kind": "rectification", "email": "camille@new.example"}, ben
    )
    await _answer(h, beneficiary, request, "fulfilment")
    contact = await h.call("GET", f"/internal/dossiers/{dossier}/contact", service_token())
    assert contact.json()["email"] == "camille@new.example"
    assert contact.json()["name"] == IDENTITY["name"]


async def test_erasure_waits_for_the_end_then_shreds_and_proves_it(harness: Harness) -> None:
    h = harness
    start = await end_offsets(h.bootstrap, TOPIC)
    dossier, beneficiary = await h.signed_dossier("individual_contract")
    ben = h.auth("beneficiary", beneficiary)
    request = await _request(h, beneficiary, {"kind": "erasure"}, ben)
    blocked = await _answer(h, beneficiary, request, "fulfilment", expect=409)
    assert blocked["code"] == "erasure_blocked_dossier_in_progress"

    await h.command(
        f"/dossiers/{dossier}/abandonment",
        h.as_manager(),
        {"reason_category": "personal", "initiated_by": "beneficiary"},
        dossier_id=dossier,
    )
    result = await _answer(h, beneficiary, request, "fulfilment")
    assert result["events"] == ["DataSubjectRequestFulfilled", "BeneficiaryErased"]

    gone = await h.call("GET", f"/internal/dossiers/{dossier}/contact", service_token(), expect=410)
    assert gone.json()["code"] == "beneficiary_erased"
    await h.call("GET", f"/dossiers/{dossier}/content", ben, expect=410)
    # Administrative facts remain for the audit.
    view = await h.call("GET", f"/dossiers/{dossier}", h.as_manager())
    assert view.json()["status"] == "abandoned"
    assert view.json()["destroyed_document_classes"] == ["synthesis", "working_documents"]
    export = (await h.call("GET", f"/beneficiaries/{beneficiary}/export", ben)).json()
    assert export["identity"] == {"name": "destroyed", "email": "destroyed", "phone": "destroyed"}
    assert export["dossiers"][0]["content"]["needs_analysis"] == "destroyed"
    assert export["erased_at"] is not None
    assert IDENTITY["name"] not in str(export)
    keys = await h.service.pool.fetchval(
        "SELECT count(*) FROM data_keys WHERE subject_id LIKE $1 OR subject_id = $2",
        f"{dossier}%",
        beneficiary,
    )
    assert keys == 0

    received = await read_envelopes(
        h.bootstrap,
        start,
        keep=lambda e: e.subject in (dossier, beneficiary),
        done=lambda got: any(e.type.endswith("BeneficiaryErased.v1") for e in got),
    )
    about_person = [e for e in received if e.subject == beneficiary]
    assert [type(e.data) for e in about_person] == [
        DataSubjectRequestReceived,
        DataSubjectRequestFulfilled,
        BeneficiaryErased,
    ]
    assert all(e.site_id == "org" for e in about_person)
    assert [e.sequence for e in about_person] == [1, 2, 3]
    received_request = about_person[0].data
    assert isinstance(received_request, DataSubjectRequestReceived)
    assert received_request.due_at.month == received_request.received_at.month + 1


async def test_refusal_names_its_legal_ground(harness: Harness) -> None:
    h = harness
    _, beneficiary = await h.open_dossier()
    request = await _request(
        h, beneficiary, {"kind": "erasure"}, h.auth("beneficiary", beneficiary)
    )
    bad = await _answer(h, beneficiary, request, "refusal", {"legal_ground": "because"}, expect=422)
    assert bad["code"] == "unknown_legal_ground"
    await _answer(h, beneficiary, request, "refusal", {"legal_ground": "art17_3_b"})
    # A person belongs to the sites of their dossiers: another site's admin does not see them.
    await h.call(
        "GET", f"/beneficiaries/{beneficiary}", h.auth("admin", site=str(uuid.uuid4())), expect=404
    )
    here = await h.call("GET", f"/beneficiaries/{beneficiary}", h.auth("admin"))
    assert len(here.json()["dossiers"]) == 1
    view = await h.call("GET", f"/beneficiaries/{beneficiary}", h.auth("beneficiary", beneficiary))
    (answered,) = view.json()["data_requests"]
    assert (answered["status"], answered["legal_ground"]) == ("refused", "art17_3_b")


async def test_requests_are_tracked_against_their_due_date(harness: Harness) -> None:
    h = harness
    _, beneficiary = await h.open_dossier()
    ben = h.auth("beneficiary", beneficiary)
    await _request(h, beneficiary, {"kind": "objection"}, ben)
    view = await h.call("GET", f"/beneficiaries/{beneficiary}", ben)
    (request,) = view.json()["data_requests"]
    assert (request["status"], request["overdue"]) == ("open", False)

    h.clock.advance(timedelta(days=31, minutes=1))

    async def due_timer_fired() -> bool:
        state = await h.service.pool.fetchval(
            "SELECT state FROM timers WHERE kind = 'dossier.data_request_due'"
        )
        return bool(state == "fired")

    await eventually(due_timer_fired)
    view = await h.call("GET", f"/beneficiaries/{beneficiary}", ben)
    (request,) = view.json()["data_requests"]
    assert (request["status"], request["overdue"]) == ("open", True)
