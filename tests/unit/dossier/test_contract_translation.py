"""Domain events reach Kafka only as contract events, with the contract's fields and no more."""

from __future__ import annotations

from datetime import UTC, datetime

from services.dossier.application.contract import to_contract
from services.dossier.domain import beneficiary as b
from services.dossier.domain import held_time
from services.dossier.domain.dossier import events as d
from services.dossier.domain.events import registered_events
from shared.contracts import (
    AssessmentAdministered,
    DataSubjectRequestReceived,
    NeedsAnalysisRecorded,
)
from shared.contracts import dossier as contract

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOSSIER = "0b8f6a52-1c9e-4d7a-8e2b-5a6c7d8e9f01"
PERSON = "1c8f6a52-1c9e-4d7a-8e2b-5a6c7d8e9f02"


def test_every_published_domain_event_has_a_contract_event() -> None:
    modules = {d.__name__, b.__name__, held_time.__name__}
    published = [cls for cls in registered_events() if cls.__module__ in modules and cls.published]
    assert len(published) >= 28
    for cls in published:
        assert getattr(contract, cls.__name__, None) is not None, cls.__name__


def test_sealed_content_never_reaches_the_contract_event() -> None:
    needs = d.NeedsAnalysisRecorded("enc:v1:secret", True, T0)
    published = to_contract(needs, dossier_id=DOSSIER)
    assert isinstance(published, NeedsAnalysisRecorded)
    assert "enc:v1" not in str(published.to_json_dict())
    assert published.to_json_dict() == {
        "dossier_id": DOSSIER,
        "disability_accommodation_requested": True,
        "recorded_at": "2026-03-02T09:00:00Z",
    }
    test = d.AssessmentAdministered("a", DOSSIER, "psychometric_tests", PERSON, T0, "enc:v1:r")
    administered = to_contract(test, dossier_id=DOSSIER)
    assert isinstance(administered, AssessmentAdministered)
    assert "enc:v1" not in str(administered.to_json_dict())


def test_internal_events_are_not_published() -> None:
    assert to_contract(d.SynthesisDrafted(1, "c", "enc", T0), dossier_id=DOSSIER) is None
    assert (
        to_contract(b.BeneficiaryRegistered(PERSON, "n", "e", None, T0), subject_id=PERSON) is None
    )
    rectified = b.IdentityRectified("r", "n", None, None, T0)
    assert to_contract(rectified, subject_id=PERSON) is None


def test_request_events_are_keyed_by_the_subject() -> None:
    received = b.DataSubjectRequestReceived(
        DOSSIER, "rectification", T0, b.one_month_after(T0), sealed_email="enc:v1:mail"
    )
    published = to_contract(received, subject_id=PERSON)
    assert isinstance(published, DataSubjectRequestReceived)
    assert published.partition_key() == PERSON
    assert "enc:v1" not in str(published.to_json_dict())


def test_a_signature_carries_its_method_and_an_older_one_none() -> None:
    convention = "2c8f6a52-1c9e-4d7a-8e2b-5a6c7d8e9f03"
    signed = to_contract(
        d.ConventionSignedByParty(convention, "employer", T0, "handwritten"), dossier_id=DOSSIER
    )
    assert signed is not None
    assert signed.to_json_dict()["method"] == "handwritten"
    # Recorded before v1.1: no method, and the record leaves the optional field out.
    older = to_contract(d.ConventionSignedByParty(convention, "employer", T0), dossier_id=DOSSIER)
    assert older is not None
    assert "method" not in older.to_json_dict()
