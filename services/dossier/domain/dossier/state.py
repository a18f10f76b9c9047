"""The dossier's state: what the rules need to know, folded from its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from services.dossier.domain.dossier.events import (
    ReferentConsultantAssigned,
    RetentionAgreed,
    SynthesisDelivered,
    SynthesisDisclosed,
    SynthesisDrafted,
)

PHASES: tuple[str, ...] = ("preliminary", "investigation", "conclusion")
"""R6313-4: preliminary, investigation, conclusion, in this order."""

Status = Literal["open", "completed", "abandoned", "withdrawn"]
TRAINING_FOLLOW_UP = ("identified", "in_progress", "enrolled", "completed", "abandoned")
"""Where a training or VAE need stands: named by the bilan, steps under way, enrolled (or the
VAE file admitted), done, given up."""


@dataclass(frozen=True, slots=True)
class Convention:
    convention_id: str
    kind: str
    required_parties: tuple[str, ...]
    mentions: dict[str, str]
    duration_minutes: int
    price_cents: int
    drafted_at: datetime
    status: Literal["drafted", "sent", "signed", "refused", "withdrawn"] = "drafted"
    sent_at: datetime | None = None
    acceptance_deadline: datetime | None = None
    signatures: dict[str, datetime] = field(default_factory=dict)
    signature_methods: dict[str, str] = field(default_factory=dict)
    """party → how it signed (`electronic`, `handwritten`, `platform`), for the document's
    signatures block; absent for signatures recorded before methods were (contract v1.0)."""
    signed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    assessment_id: str
    instrument_id: str
    administered_by: str
    administered_at: datetime
    sealed_result: str


@dataclass(frozen=True, slots=True)
class Dossier:
    """Everything the rules need to know about a dossier."""

    dossier_id: str
    beneficiary_id: str
    site_id: str
    funding_route: str
    enquiry_received_at: datetime
    opened_at: datetime
    status: Status = "open"
    processing_restricted: bool = False
    """Under the beneficiary's restriction (art. 18): stored, processed for nobody but them
    and the legal obligations."""
    referent_history: tuple[ReferentConsultantAssigned, ...] = ()
    """Every assignment of a referent, oldest first (who, when, why: Qualiopi ind. 17)."""
    notice_version: int | None = None
    needs_analysis: str | None = None
    needs_recorded_at: datetime | None = None
    disability_accommodation_requested: bool = False
    planned_minutes: int | None = None
    programme_agreed_at: datetime | None = None
    modality: str | None = None
    conventions: tuple[Convention, ...] = ()
    referent_id: str | None = None
    phases_started: dict[str, datetime] = field(default_factory=dict)
    phases_completed: dict[str, datetime] = field(default_factory=dict)
    assessments: tuple[Assessment, ...] = ()
    field_inquiries: int = 0
    field_notes: tuple[str, ...] = ()
    training_needs: tuple[tuple[str, str | None, str | None], ...] = ()
    training_follow_ups: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    """index of a training need → its latest follow-up status and when it was set."""
    results_handed_over_at: datetime | None = None
    synthesis_drafts: tuple[SynthesisDrafted, ...] = ()
    synthesis_delivered: SynthesisDelivered | None = None
    consents: frozenset[str] = frozenset()
    disclosures: tuple[SynthesisDisclosed, ...] = ()
    ended_at: datetime | None = None
    retention: RetentionAgreed | None = None
    destroyed: frozenset[str] = frozenset()

    @property
    def convention(self) -> Convention | None:
        """The latest convention, if any."""
        return self.conventions[-1] if self.conventions else None

    @property
    def phase_under_way(self) -> str | None:
        """The last phase started (the one a bilan is abandoned in), else None."""
        under_way = None
        for phase in PHASES:
            if phase in self.phases_started:
                under_way = phase
        return under_way

    @property
    def ended(self) -> bool:
        return self.status != "open"
