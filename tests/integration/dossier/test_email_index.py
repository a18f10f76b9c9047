"""The internal look-ups of the console's sign-in: a beneficiary found by the blind index of
their address (never the address), their sites, and their contact by beneficiary id."""

from __future__ import annotations

import uuid

from services.dossier.settings import Settings
from shared.blind_index import email_index
from tests.integration.dossier.harness import IDENTITY, Harness
from tests.integration.dossier.test_gdpr import _answer, _request, service_token

KEY = Settings().blind_index_key_bytes()


async def _find(h: Harness, address: str) -> list[dict[str, object]]:
    index = email_index(KEY, address)
    response = await h.call("GET", f"/internal/beneficiaries?email_index={index}", service_token())
    found: list[dict[str, object]] = response.json()
    return found


async def test_a_beneficiary_is_found_by_the_blind_index_of_their_address(
    harness: Harness,
) -> None:
    h = harness
    _, beneficiary = await h.open_dossier()
    # The same address however it is typed: case and surrounding spaces do not matter.
    assert await _find(h, "  " + IDENTITY["email"].upper() + " ") == [
        {"beneficiary_id": beneficiary, "site_ids": [h.site]}
    ]
    assert await _find(h, "someone.else@example.org") == []
    stored = await h.service.pool.fetchval(
        "SELECT email_index FROM beneficiary_email_index WHERE beneficiary_id = $1",
        uuid.UUID(beneficiary),
    )
    assert stored == email_index(KEY, IDENTITY["email"])
    assert IDENTITY["email"] not in stored

    ref = await h.call("GET", f"/internal/beneficiaries/{beneficiary}", service_token())
    assert ref.json() == {"beneficiary_id": beneficiary, "site_ids": [h.site]}
    contact = await h.call("GET", f"/internal/beneficiaries/{beneficiary}/contact", service_token())
    assert contact.json()["email"] == IDENTITY["email"]


async def test_the_look_ups_are_for_services_only_and_check_their_input(harness: Harness) -> None:
    h = harness
    _, beneficiary = await h.open_dossier()
    index = email_index(KEY, IDENTITY["email"])
    await h.call("GET", f"/internal/beneficiaries?email_index={index}", h.as_manager(), expect=403)
    ben = h.auth("beneficiary", beneficiary)
    await h.call("GET", f"/internal/beneficiaries/{beneficiary}/contact", ben, expect=403)
    bad = await h.call(
        "GET",
        "/internal/beneficiaries?email_index=camille@example.org",
        service_token(),
        expect=422,
    )
    assert "camille" not in bad.text  # the submitted value is never echoed
    await h.call("GET", f"/internal/beneficiaries/{uuid.uuid4()}", service_token(), expect=404)


async def test_rectification_moves_the_index_and_erasure_removes_it(harness: Harness) -> None:
    h = harness
    dossier, beneficiary = await h.open_dossier()
    ben = h.auth("beneficiary", beneficiary)
    request = await _request(
        h, beneficiary, {"kind": "rectification", "email": "camille@new.example"}, ben
    )
    await _answer(h, beneficiary, request, "fulfilment")
    assert await _find(h, IDENTITY["email"]) == []
    assert [x["beneficiary_id"] for x in await _find(h, "camille@new.example")] == [beneficiary]

    await h.command(
        f"/dossiers/{dossier}/abandonment",
        h.as_manager(),
        {"reason_category": "personal", "initiated_by": "beneficiary"},
        dossier_id=dossier,
    )
    erasure = await _request(h, beneficiary, {"kind": "erasure"}, ben)
    await _answer(h, beneficiary, erasure, "fulfilment")
    assert await _find(h, "camille@new.example") == []
    await h.call("GET", f"/internal/beneficiaries/{beneficiary}", service_token(), expect=404)


async def test_the_back_fill_indexes_beneficiaries_registered_before_the_index(
    harness: Harness,
) -> None:
    h = harness
    _, beneficiary = await h.open_dossier()
    await h.service.pool.execute("DELETE FROM beneficiary_email_index")
    assert await _find(h, IDENTITY["email"]) == []
    assert await h.service.commands.backfill_email_index() >= 1
    assert [x["beneficiary_id"] for x in await _find(h, IDENTITY["email"])] == [beneficiary]
