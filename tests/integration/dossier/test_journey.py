"""A whole bilan over HTTP, real PostgreSQL and Kafka: what reaches `bilan.dossier.events`."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from shared.contracts import DossierCompleted, ReferentConsultantAssigned
from shared.envelope import Envelope
from tests.integration.dossier.harness import IDENTITY, Harness, eventually
from tests.integration.kafka_reading import end_offsets, read_envelopes

TOPIC = "bilan.dossier.events"
SECRETS = [
    IDENTITY["name"],
    IDENTITY["email"],
    "Burn-out in accounting",
    "Dominant profile",
    "Met a training manager",
    "Synthesis for Camille",
    "12 34 56 78",
]


def _no_personal_data(envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        text = orjson.dumps(envelope.data.to_json_dict()).decode()
        for secret in SECRETS:
            assert secret not in text, f"{envelope.type} carries personal data or content"


async def test_full_journey_publishes_the_contract_sequence(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    h = harness
    start = await end_offsets(h.bootstrap, TOPIC)
    await h.staff_known()
    dossier, beneficiary = await h.signed_dossier()
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
    await h.session_held(dossier, "preliminary", 120, counted_total=120)
    await h.command(f"{url}/phases/preliminary/completion", h.as_consultant(), dossier_id=dossier)
    await h.command(f"{url}/phases/investigation/start", h.as_consultant(), dossier_id=dossier)
    await h.session_held(dossier, "investigation", 600, counted_total=720)
    await h.session_held(dossier, "follow_up", 60)  # not a bilan phase: never counted
    test = await h.command(
        f"{url}/assessments",
        h.as_psychologist(),
        {
            "instrument_id": "6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b03",
            "result": "Dominant profile: S-A",
        },
        dossier_id=dossier,
        expect=201,
    )
    await h.command(
        f"{url}/field-inquiries",
        h.as_consultant(),
        {"contact_type": "professional_interview", "notes": "Met a training manager"},
        dossier_id=dossier,
        expect=201,
    )
    await h.command(
        f"{url}/training-needs",
        h.as_consultant(),
        {"kind": "training", "certification_code": "RNCP35185"},
        dossier_id=dossier,
        expect=201,
    )
    await h.command(f"{url}/phases/investigation/completion", h.as_consultant(), dossier_id=dossier)
    await h.command(f"{url}/phases/conclusion/start", h.as_consultant(), dossier_id=dossier)
    await h.session_held(dossier, "conclusion", 180, counted_total=900)
    await h.command(f"{url}/detailed-results-handover", h.as_consultant(), dossier_id=dossier)
    for text in ("Synthesis for Camille, draft", "Synthesis for Camille, final"):
        await h.command(
            f"{url}/synthesis/drafts",
            h.as_consultant(),
            {"content": text},
            dossier_id=dossier,
            expect=201,
        )
    await h.command(
        f"{url}/synthesis/delivery",
        h.as_consultant(),
        {"channel": "secure_download"},
        dossier_id=dossier,
    )
    await h.command(f"{url}/phases/conclusion/completion", h.as_consultant(), dossier_id=dossier)

    async def all_sessions_counted() -> bool:
        view = await h.call("GET", url, h.as_manager())
        return bool(view.json()["held_minutes"] == 900)

    await eventually(all_sessions_counted)
    await h.command(f"{url}/completion", h.as_consultant(), dossier_id=dossier)

    # The beneficiary downloads the delivered synthesis; the psychologist reads the test they gave.
    synthesis = await h.call("GET", f"{url}/synthesis", ben)
    assert synthesis.json()["content"] == "Synthesis for Camille, final"
    result = await h.call("GET", test.headers["location"], h.as_psychologist())
    assert result.json()["result"] == "Dominant profile: S-A"
    # With the beneficiary's consent, the synthesis goes to their CEP operator.
    await h.command(
        f"{url}/disclosure-consents", ben, {"recipient": "cep_operator"}, dossier_id=dossier
    )
    await h.command(
        f"{url}/synthesis/disclosures",
        h.as_consultant(),
        {"recipient": "cep_operator"},
        dossier_id=dossier,
    )

    expected = [
        "DossierOpened",
        "DeontologyInformationAcknowledged",
        "NeedsAnalysisRecorded",
        "PersonalisedProgrammeAgreed",
        "ConventionDrafted",
        "ConventionSentForSignature",
        "ConventionSignedByParty",
        "ConventionSignedByParty",
        "ConventionSignedByParty",
        "ConventionSigned",
        "ReferentConsultantAssigned",
        "PhaseStarted",
        "PhaseCompleted",
        "PhaseStarted",
        "AssessmentAdministered",
        "FieldInquiryCompleted",
        "TrainingNeedIdentified",
        "PhaseCompleted",
        "PhaseStarted",
        "DetailedResultsHandedOver",
        "SynthesisDelivered",
        "PhaseCompleted",
        "DossierCompleted",
        "ThirdPartyDisclosureConsentGiven",
    ]
    received = await read_envelopes(
        h.bootstrap,
        start,
        keep=lambda e: e.subject == dossier,
        done=lambda got: len(got) >= len(expected),
        timeout_s=60,
    )
    assert [e.type.split(".")[2] for e in received] == expected
    assert [e.sequence for e in received] == list(range(1, len(expected) + 1))
    assert all(e.site_id == h.site and e.source == "/bilan/dossier" for e in received)
    assigned = received[10].data
    assert isinstance(assigned, ReferentConsultantAssigned)
    assert str(assigned.consultant_id) == h.consultant
    completed = received[-2].data
    assert isinstance(completed, DossierCompleted)
    assert completed.held_minutes == 900
    _no_personal_data(received)

    # Nothing personal in the event store either: identity and content are ciphertext.
    raw = await h.service.pool.fetch("SELECT data::text AS data FROM events")
    stored = " ".join(r["data"] for r in raw)
    for secret in SECRETS:
        assert secret not in stored

    # The grace period passes: the documents are destroyed by the timer, content answers 410.
    start_destroyed = await end_offsets(h.bootstrap, TOPIC)
    h.clock.advance(timedelta(days=31))

    async def destroyed() -> bool:
        view = await h.call("GET", url, h.as_manager())
        return bool(view.json()["destroyed_document_classes"] == ["synthesis", "working_documents"])

    await eventually(destroyed)
    for path, who in (
        (f"{url}/content", ben),
        (f"{url}/synthesis", ben),
        (f"{url}/content", h.as_consultant()),
    ):
        gone = await h.call("GET", path, who, expect=410)
        assert gone.json()["code"] == "content_destroyed"
    (destruction,) = await read_envelopes(
        h.bootstrap,
        start_destroyed,
        keep=lambda e: e.subject == dossier,
        done=lambda got: len(got) >= 1,
    )
    assert destruction.type == "bilan.dossier.WorkingDocumentsDestroyed.v1"
    assert destruction.sequence == len(expected) + 1
    # Administrative facts remain.
    view = await h.call("GET", url, h.as_manager())
    assert view.json()["status"] == "completed"
    assert view.json()["held_minutes"] == 900

    # Nor in the logs.
    captured = capsys.readouterr()
    logs = captured.out + captured.err
    assert "documents_destroyed" in logs, "the logs were captured"
    for secret in SECRETS:
        assert secret not in logs
