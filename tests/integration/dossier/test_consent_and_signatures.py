"""Consents and signatures belong to whoever gives them (issue 16, items 3 and 4): a party
signs online for itself only; staff record another party's handwritten signature, or a written
consent, only with its scan, which is kept sealed under the beneficiary's key."""

from __future__ import annotations

import base64
from typing import Any

from tests.integration.dossier.harness import MENTIONS, SCAN, Harness


async def _sent_convention(h: Harness) -> tuple[str, str, str]:
    dossier, beneficiary = await h.open_dossier()
    url = f"/dossiers/{dossier}"
    await h.command(
        f"{url}/programme",
        h.as_consultant(),
        {"planned_minutes": 1200, "modality": "mixed"},
        dossier_id=dossier,
        method="PUT",
    )
    drafted = await h.command(
        f"{url}/conventions",
        h.as_manager(),
        {"kind": "tripartite", **MENTIONS, "duration_minutes": 1200, "price_cents": 180000},
        dossier_id=dossier,
        expect=201,
    )
    convention = drafted.headers["location"].rsplit("/", 1)[1]
    await h.command(f"{url}/conventions/{convention}/sending", h.as_manager(), dossier_id=dossier)
    return dossier, beneficiary, convention


async def test_a_party_signs_for_itself_and_paper_signatures_need_their_scan(
    harness: Harness,
) -> None:
    h = harness
    dossier, beneficiary, convention = await _sent_convention(h)
    sign = f"/dossiers/{dossier}/conventions/{convention}/signatures"
    not_referent = h.auth("consultant")
    ben = h.auth("beneficiary", beneficiary)
    cases: list[tuple[dict[str, str], dict[str, Any], int, str]] = [
        (not_referent, {"party": "employer"}, 403, "sign_for_yourself"),
        (not_referent, {"party": "provider"}, 403, "sign_for_yourself"),
        (not_referent, {"party": "employer", "paper_document": SCAN}, 403, "not_the_referent"),
        (h.as_manager(), {"party": "employer"}, 403, "sign_for_yourself"),
        (h.as_manager(), {"party": "beneficiary"}, 403, "sign_for_yourself"),
        (ben, {"party": "employer"}, 403, "sign_for_yourself"),
        (ben, {"party": "beneficiary", "paper_document": SCAN}, 422, "paper_document_by_staff"),
        (
            h.as_manager(),
            {
                "party": "employer",
                "paper_document": {
                    "media_type": "application/pdf",
                    "content_base64": base64.b64encode(b"not a pdf at all").decode(),
                },
            },
            422,
            "invalid_request",
        ),
    ]
    for headers, body, status, code in cases:
        refused = await h.command(sign, headers, body, dossier_id=dossier, expect=status)
        assert refused.json()["code"] == code, body
    assert await h.service.pool.fetchval("SELECT count(*) FROM paper_documents") == 0

    await h.command(sign, h.as_manager(), {"party": "provider"}, dossier_id=dossier)
    await h.command(
        sign, h.as_manager(), {"party": "employer", "paper_document": SCAN}, dossier_id=dossier
    )
    done = await h.command(sign, ben, {"party": "beneficiary"}, dossier_id=dossier)
    assert "ConventionSigned" in done.json()["events"]

    rows = await h.service.pool.fetch(
        "SELECT data FROM events WHERE event_type = 'ConventionSignedByParty' ORDER BY version"
    )
    methods = {r["data"]["party"]: (r["data"]["method"], r["data"]["document_id"]) for r in rows}
    assert methods["provider"] == ("electronic", None)
    assert methods["beneficiary"] == ("electronic", None)
    assert methods["employer"][0] == "handwritten"
    stored = await h.service.pool.fetchrow(
        "SELECT document_id::text, backs, sealed FROM paper_documents"
    )
    assert stored is not None
    assert stored["document_id"] == methods["employer"][1]
    assert stored["backs"].endswith(":employer")
    assert SCAN["content_base64"] not in stored["sealed"], "the scan is kept sealed"


async def test_only_the_beneficiary_consents_or_staff_record_a_written_consent(
    harness: Harness,
) -> None:
    h = harness
    dossier, beneficiary = await h.open_dossier()
    url = f"/dossiers/{dossier}/disclosure-consents"
    ben = h.auth("beneficiary", beneficiary)
    for headers in [h.as_manager(), h.as_consultant(), h.auth("admin")]:
        refused = await h.command(
            url, headers, {"recipient": "funder"}, dossier_id=dossier, expect=403
        )
        assert refused.json()["code"] == "consent_by_beneficiary"
    await h.command(
        url, ben, {"recipient": "funder", "written_consent": SCAN}, dossier_id=dossier, expect=422
    )
    view = await h.call("GET", f"/dossiers/{dossier}", h.as_manager())
    assert view.json()["disclosure_consents"] == []

    await h.command(url, ben, {"recipient": "cep_operator"}, dossier_id=dossier)
    await h.command(
        url, h.as_manager(), {"recipient": "funder", "written_consent": SCAN}, dossier_id=dossier
    )
    view = await h.call("GET", f"/dossiers/{dossier}", h.as_manager())
    assert view.json()["disclosure_consents"] == ["cep_operator", "funder"]
    revoked = await h.command(
        f"{url}/funder", h.as_manager(), dossier_id=dossier, method="DELETE", expect=403
    )
    assert revoked.json()["code"] == "consent_by_beneficiary"
    await h.command(f"{url}/funder", ben, dossier_id=dossier, method="DELETE")
    view = await h.call("GET", f"/dossiers/{dossier}", h.as_manager())
    assert view.json()["disclosure_consents"] == ["cep_operator"]

    # A withdrawal the beneficiary sent in writing: staff record it, only with its scan.
    withdrawal = f"{url}/cep_operator/withdrawal"
    unscanned = await h.command(withdrawal, h.as_manager(), {}, dossier_id=dossier, expect=422)
    assert unscanned.status_code == 422
    await h.command(withdrawal, ben, {"written_withdrawal": SCAN}, dossier_id=dossier, expect=403)
    await h.command(withdrawal, h.as_manager(), {"written_withdrawal": SCAN}, dossier_id=dossier)
    view = await h.call("GET", f"/dossiers/{dossier}", h.as_manager())
    assert view.json()["disclosure_consents"] == []
    backing = await h.service.pool.fetchval(
        "SELECT count(*) FROM paper_documents WHERE backs = $1",
        "disclosure_consent_withdrawal:cep_operator",
    )
    assert backing == 1
