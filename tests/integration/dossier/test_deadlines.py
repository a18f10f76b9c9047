"""Durable timers driven by a fake clock: deemed refusal, destruction at retention expiry."""

from __future__ import annotations

from datetime import timedelta

from shared.contracts import ConventionDeemedRefused, WorkingDocumentsDestroyed
from tests.integration.dossier.harness import MENTIONS, SCAN, Harness, eventually
from tests.integration.kafka_reading import end_offsets, read_envelopes

TOPIC = "bilan.dossier.events"


async def test_silence_until_the_deadline_is_refusal(harness: Harness) -> None:
    h = harness
    start = await end_offsets(h.bootstrap, TOPIC)
    dossier, beneficiary = await h.open_dossier()
    url = f"/dossiers/{dossier}"
    drafted = await h.command(
        f"{url}/conventions",
        h.as_manager(),
        {"kind": "tripartite", **MENTIONS, "duration_minutes": 1200, "price_cents": 150000},
        dossier_id=dossier,
        expect=201,
    )
    convention = drafted.headers["location"].rsplit("/", 1)[1]
    sent_at = h.clock.now()
    await h.command(f"{url}/conventions/{convention}/sending", h.as_manager(), dossier_id=dossier)
    await h.command(
        f"{url}/conventions/{convention}/signatures",
        h.as_manager(),
        {"party": "employer", "paper_document": SCAN},
        dossier_id=dossier,
    )

    h.clock.advance(timedelta(days=9, hours=23))
    view = await h.call("GET", url, h.as_manager())
    assert view.json()["convention"]["status"] == "sent", "not refused before the deadline"

    h.clock.advance(timedelta(hours=1))

    async def refused() -> bool:
        current = await h.call("GET", url, h.as_manager())
        return bool(current.json()["convention"]["status"] == "refused")

    await eventually(refused)
    late = await h.command(
        f"{url}/conventions/{convention}/signatures",
        h.auth("beneficiary", beneficiary),
        {"party": "beneficiary"},
        dossier_id=dossier,
        expect=409,
    )
    assert late.json()["code"] == "convention_not_awaiting_signature"

    received = await read_envelopes(
        h.bootstrap,
        start,
        keep=lambda e: e.subject == dossier,
        done=lambda got: any(e.type.endswith("ConventionDeemedRefused.v1") for e in got),
    )
    deemed = received[-1].data
    assert isinstance(deemed, ConventionDeemedRefused)
    assert deemed.acceptance_deadline == sent_at + timedelta(days=10)
    assert deemed.refused_at >= deemed.acceptance_deadline
    assert [e.type.split(".")[2] for e in received] == [
        "DossierOpened",
        "ConventionDrafted",
        "ConventionSentForSignature",
        "ConventionSignedByParty",
        "ConventionDeemedRefused",
    ]


async def test_retained_synthesis_outlives_the_working_documents(harness: Harness) -> None:
    h = harness
    await h.staff_known()
    dossier, beneficiary = await h.signed_dossier("individual_contract")
    url = f"/dossiers/{dossier}"
    ben = h.auth("beneficiary", beneficiary)
    await h.command(
        f"{url}/referent",
        h.as_manager(),
        {"consultant_id": h.consultant, "reason": "initial"},
        dossier_id=dossier,
        method="PUT",
    )
    await h.command(f"{url}/phases/preliminary/start", h.as_consultant(), dossier_id=dossier)
    await h.command(
        f"{url}/abandonment",
        h.as_manager(),
        {"reason_category": "employment_found", "initiated_by": "beneficiary"},
        dossier_id=dossier,
    )
    ended = h.clock.now()
    too_long = await h.command(
        f"{url}/retention",
        h.as_manager(),
        {
            "document_classes": ["working_documents"],
            "justification": "follow_up",
            "expires_at": (ended + timedelta(days=366)).isoformat(),
        },
        dossier_id=dossier,
        expect=422,
    )
    assert too_long.json()["code"] == "retention_too_long"
    await h.command(
        f"{url}/retention",
        h.as_manager(),
        {
            "document_classes": ["working_documents"],
            "justification": "follow_up",
            "expires_at": (ended + timedelta(days=180)).isoformat(),
        },
        dossier_id=dossier,
    )
    start = await end_offsets(h.bootstrap, TOPIC)

    h.clock.advance(timedelta(days=31))

    async def destroyed(classes: list[str]) -> bool:
        view = await h.call("GET", url, h.as_manager())
        return bool(view.json()["destroyed_document_classes"] == classes)

    await eventually(lambda: destroyed(["synthesis"]))
    content = await h.call("GET", f"{url}/content", ben)
    assert content.json()["needs_analysis"] == "Burn-out in accounting; wants to teach"

    h.clock.advance(timedelta(days=150))
    await eventually(lambda: destroyed(["synthesis", "working_documents"]))
    gone = await h.call("GET", f"{url}/content", ben, expect=410)
    assert gone.json()["code"] == "content_destroyed"

    received = await read_envelopes(
        h.bootstrap, start, keep=lambda e: e.subject == dossier, done=lambda got: len(got) >= 2
    )
    classes = []
    for envelope in received:
        assert isinstance(envelope.data, WorkingDocumentsDestroyed)
        assert envelope.data.method == "crypto_shred"
        classes.append(envelope.data.document_classes)
    assert classes == [["synthesis"], ["working_documents"]]

    async def keys_vacuumed() -> bool:
        vacuumed = await h.service.pool.fetchval(
            "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'data_keys'"
        )
        return bool(vacuumed and vacuumed > 0)

    await eventually(keys_vacuumed)
