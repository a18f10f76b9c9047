"""Request bodies of the dossier API, with examples for the OpenAPI document."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.contracts.dossier import (
    AbandonInitiator,
    AbandonReason,
    ConsultantAssignmentReason,
    ConventionKind,
    ConventionParty,
    DataRequestKind,
    DisclosureRecipient,
    DocumentClass,
    FieldContactType,
    FundingRoute,
    ProgrammeModality,
    RetentionJustification,
    SynthesisChannel,
    TrainingNeedKind,
)
from shared.contracts.values import CertificationCode, LegalGround
from shared.inputs import MAX_INT, BusinessTime, RequestBody

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9 .()-]{6,31}$")
]
When = Annotated[
    BusinessTime | None,
    Field(None, description="Business time of the fact; the service's clock when absent."),
]


class Body(RequestBody):
    pass


def _example(**values: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [values]})


class OpenDossier(Body):
    model_config = _example(
        site_id="8a3c1f0e-4b7d-4c2a-9f10-2d5e6b7c8d90",
        funding_route="employer_plan",
        enquiry_received_at="2026-03-02T09:30:00Z",
        name="Camille Martin",
        email="camille.martin@example.org",
        phone="+33 6 12 34 56 78",
    )
    site_id: UUID
    funding_route: FundingRoute
    enquiry_received_at: BusinessTime
    beneficiary_id: UUID | None = Field(
        None, description="An existing beneficiary; omit to register a new one with identity."
    )
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None


class AcknowledgeDeontology(Body):
    model_config = _example(notice_version=1)
    notice_version: int = Field(strict=True, ge=1, le=MAX_INT)
    acknowledged_at: When = None


class RecordNeedsAnalysis(Body):
    model_config = _example(
        narrative="Wishes to move from accounting towards training roles.",
        disability_accommodation_requested=False,
    )
    narrative: Text
    disability_accommodation_requested: bool
    recorded_at: When = None


class AgreeProgramme(Body):
    model_config = _example(planned_minutes=1200, modality="mixed")
    planned_minutes: int = Field(strict=True, ge=1, le=1440)
    modality: ProgrammeModality
    agreed_at: When = None


class DraftConvention(Body):
    model_config = _example(
        kind="tripartite",
        title="Bilan de compétences",
        objective="Define a professional project and its training plan",
        content="Preliminary, investigation and conclusion phases (R6313-4)",
        means="Individual interviews, interest inventory, field inquiries",
        period="March to May 2026",
        running_terms="Eight sessions of 2h30 on site or remotely",
        follow_up_terms="A follow-up interview is offered six months after the end",
        handover_terms="Detailed results and the synthesis are handed to the beneficiary only",
        payment_terms="Paid by the employer at the end of the bilan",
        duration_minutes=1200,
        price_cents=180000,
    )
    kind: ConventionKind
    title: Short
    objective: Short
    content: Short
    means: Short
    period: Short
    running_terms: Short
    follow_up_terms: Short
    handover_terms: Short
    payment_terms: Short
    duration_minutes: int = Field(strict=True, ge=1, le=1440)
    price_cents: int = Field(strict=True, ge=0, le=MAX_INT)


class SendConvention(Body):
    model_config = _example()
    sent_at: When = None


MAX_SCAN_BYTES = 700_000
"""A scan fits in a request (1 MiB once in base64)."""
_MAGIC = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}


class ScannedDocument(Body):
    """A scanned paper document: what backs a fact staff record for someone else."""

    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    content_base64: str = Field(
        min_length=8, max_length=(MAX_SCAN_BYTES * 4) // 3 + 4, description="The scan, base64."
    )

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64, validate=True)

    @model_validator(mode="after")
    def _a_scan_of_its_type(self) -> ScannedDocument:
        try:
            content = self.content()
        except binascii.Error:
            raise ValueError("content_base64 is not base64") from None
        if not content.startswith(_MAGIC[self.media_type]):
            raise ValueError(f"the content is not a {self.media_type} document")
        return self


class SignConvention(Body):
    model_config = _example(party="beneficiary")
    party: ConventionParty
    signed_at: When = None
    paper_document: ScannedDocument | None = Field(
        None,
        description="Staff recording another party's signature: its scan (the signed paper, "
        "or the CPF platform's proof of acceptance with `method: platform`). A party signing "
        "online signs for itself only (the beneficiary; a site manager for the provider).",
    )
    method: Literal["electronic", "handwritten", "platform"] | None = Field(
        None,
        description="`electronic` for a party signing online for itself (the default without "
        "`paper_document`); with `paper_document`, `handwritten` (the default) or `platform` "
        "(accepted on the CPF platform).",
    )


class ExerciseWithdrawal(Body):
    model_config = _example()
    exercised_at: When = None


class AssignReferent(Body):
    model_config = _example(consultant_id="3f0b6a52-1c9e-4d7a-8e2b-5a6c7d8e9f01", reason="initial")
    consultant_id: UUID
    reason: ConsultantAssignmentReason


class PhaseTransition(Body):
    model_config = _example()
    at: When = None


class AdministerAssessment(Body):
    model_config = _example(
        instrument_id="6f1c2a9e-0a51-4c1e-9a43-1d2f3e4a5b01", result="Dominant profile: S-A-E"
    )
    instrument_id: UUID
    result: Text
    administered_at: When = None


class CompleteFieldInquiry(Body):
    model_config = _example(contact_type="professional_interview", notes="Met a training manager")
    contact_type: FieldContactType
    notes: Text | None = None
    completed_at: When = None


class IdentifyTrainingNeed(Body):
    model_config = _example(kind="training", certification_code="RNCP35185", description="Trainer")
    kind: TrainingNeedKind
    certification_code: CertificationCode | None = None
    description: Text | None = None
    identified_at: When = None


class FollowUpTrainingNeed(Body):
    model_config = _example(status="enrolled")
    status: Literal["identified", "in_progress", "enrolled", "completed", "abandoned"]
    at: When = None


class HandOverResults(Body):
    model_config = _example()
    handed_over_at: When = None


class DraftSynthesis(Body):
    model_config = _example(content="Circumstances, competences, project and its steps.")
    content: Text


class DeliverSynthesis(Body):
    model_config = _example(channel="secure_download")
    channel: SynthesisChannel
    delivered_at: When = None


class DisclosureConsent(Body):
    model_config = _example(recipient="cep_operator")
    recipient: DisclosureRecipient


class GiveDisclosureConsent(DisclosureConsent):
    model_config = _example(recipient="cep_operator")
    written_consent: ScannedDocument | None = Field(
        None,
        description="Only the beneficiary consents; staff record a consent given in writing, "
        "with its scan.",
    )


class WrittenWithdrawal(Body):
    """The beneficiary's withdrawal of a consent, sent in writing: its scan."""

    written_withdrawal: ScannedDocument


class CompleteDossier(Body):
    model_config = _example()
    completed_at: When = None


class AbandonDossier(Body):
    model_config = _example(reason_category="employment_found", initiated_by="beneficiary")
    reason_category: AbandonReason
    initiated_by: AbandonInitiator
    abandoned_at: When = None


class AgreeRetention(Body):
    model_config = _example(
        document_classes=["synthesis"], justification="follow_up", expires_at="2026-12-01T00:00:00Z"
    )
    document_classes: list[DocumentClass] = Field(min_length=1, max_length=2)
    justification: RetentionJustification
    expires_at: BusinessTime
    agreed_at: When = None


class ReceiveDataRequest(Body):
    model_config = _example(kind="rectification", email="camille.martin@example.net")
    kind: DataRequestKind
    name: Name | None = Field(None, description="Rectification only: the corrected name.")
    email: Email | None = Field(None, description="Rectification only: the corrected e-mail.")
    phone: Phone | None = Field(None, description="Rectification only: the corrected phone.")
    received_at: When = None


class RefuseDataRequest(Body):
    model_config = _example(legal_ground="art17_3_b")
    legal_ground: LegalGround


class CommandResult(BaseModel):
    """What a command did: the stream's new version (also the ETag) and the new facts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5b1f7e8a-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
                    "version": 7,
                    "events": ["ConventionSignedByParty", "ConventionSigned"],
                }
            ]
        }
    )
    id: str
    version: int
    events: list[str]


class BeneficiaryRef(BaseModel):
    """Who a beneficiary is for the console's tokens: an id and the sites of their dossiers."""

    beneficiary_id: str
    site_ids: list[str]


class Contact(BaseModel):
    """A beneficiary's contact details, for services sending them a message."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Camille Martin", "email": "camille@example.org", "phone": None}]
        }
    )
    name: str
    email: str
    phone: str | None
