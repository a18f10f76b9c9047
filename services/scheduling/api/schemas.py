"""Request and response bodies of the HTTP API, with the examples shown in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints, model_validator

from services.scheduling.domain.values import (
    AssessmentReason,
    CancellationReason,
    CompetenceOutcome,
    Contract,
    Initiator,
    Modality,
    Phase,
    StaffRole,
)
from shared.contracts.values import Code, OrganisationLabel
from shared.inputs import BusinessTime, RequestBody

SITE = "6f1c2d7e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"
ROOM = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"
STAFF = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
SESSION = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
DOSSIER = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"


class _Body(RequestBody):
    pass


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
"""A work e-mail address (as the dossier service checks a beneficiary's)."""


class OpenSiteBody(_Body):
    name: OrganisationLabel = Field(examples=["Lyon Part-Dieu"])
    region: OrganisationLabel = Field(examples=["auvergne_rhone_alpes"])
    address: OrganisationLabel | None = Field(
        None,
        examples=["12 rue de la Villette, 69003 Lyon"],
        description="Postal address, shown to beneficiaries beside the room of a session.",
    )


class SiteOut(BaseModel):
    site_id: UUID = Field(examples=[SITE])
    name: str = Field(examples=["Lyon Part-Dieu"])
    region: str = Field(examples=["auvergne_rhone_alpes"])
    opened_at: datetime
    address: str | None = None


class RegisterRoomBody(_Body):
    name: OrganisationLabel = Field(examples=["B12"])
    confidential: bool = Field(
        description="Whether the room keeps an interview confidential (Qualiopi ind. 17).",
        examples=[True],
    )


class RoomOut(BaseModel):
    room_id: UUID = Field(examples=[ROOM])
    site_id: UUID = Field(examples=[SITE])
    name: str = Field(examples=["B12"])
    confidential: bool
    registered_at: datetime


class OnboardBody(_Body):
    staff_id: UUID | None = Field(
        None,
        description="The staff member's id, as the identity provider's `sub`; new if absent.",
        examples=[STAFF],
    )
    name: str | None = Field(
        None,
        max_length=200,
        description="Kept encrypted under the staff member's own key; never published.",
        examples=["Claire Dubois"],
    )
    email: Email | None = Field(
        None,
        description="Work e-mail address: signing in to the console, and the mails telling "
        "them of a beneficiary's request. Kept encrypted (with a keyed blind index for "
        "sign-in); never published.",
        examples=["claire.dubois@centre-bilan.fr"],
    )
    roles: list[StaffRole] = Field(min_length=1, examples=[["consultant"]])
    site_ids: list[UUID] = Field(min_length=1, examples=[[SITE]])
    contract: Contract = Field(examples=["employee"])


class EmailBody(_Body):
    email: Email = Field(examples=["claire.dubois@centre-bilan.fr"])


class PsychologistRegistration(_Body):
    registry: Literal["adeli", "rpps"] = Field(examples=["rpps"])
    number: str = Field(
        pattern=r"^[0-9]{9}([0-9]{2})?$",
        description="ADELI: 9 digits; RPPS: 11 digits. Kept encrypted, never published.",
        examples=["10001234567"],
    )

    @model_validator(mode="after")
    def _length_of_its_register(self) -> PsychologistRegistration:
        if len(self.number) != (9 if self.registry == "adeli" else 11):
            raise ValueError("an ADELI number has 9 digits, an RPPS number 11")
        return self


class QualificationBody(_Body):
    qualification: Code = Field(examples=["master_psychologie"])
    habilitations: list[Code] = Field(
        default_factory=list, max_length=20, examples=[["psychometric_tests"]]
    )
    recorded_at: BusinessTime = Field(examples=["2026-01-12T09:00:00Z"])
    psychologist_registration: PsychologistRegistration | None = Field(
        None,
        description="The psychologist's title registration: required with `psychometric_tests`.",
        examples=[{"registry": "rpps", "number": "10001234567"}],
    )


class TrainingBody(_Body):
    title_code: Code = Field(examples=["deontologie_bilan"])
    hours: float = Field(strict=True, gt=0, le=1000, allow_inf_nan=False, examples=[7])
    completed_at: BusinessTime = Field(examples=["2026-01-20T17:00:00Z"])


class EvaluationBody(_Body):
    outcome: CompetenceOutcome = Field(examples=["meets"])
    evaluated_at: BusinessTime = Field(examples=["2026-02-01T10:00:00Z"])


class LeavingBody(_Body):
    left_at: BusinessTime = Field(examples=["2026-06-30T18:00:00Z"])


class StaffRecordOut(BaseModel):
    kind: str = Field(examples=["training"])
    code: str = Field(examples=["deontologie_bilan"])
    habilitations: list[str] | None = None
    hours: float | None = Field(None, examples=[7])
    happened_at: datetime


class StaffOut(BaseModel):
    staff_id: UUID = Field(examples=[STAFF])
    name: str | None = Field(None, description="Only in the detail, for managers.")
    email: str | None = Field(
        None, description="The work address; only in the detail, for managers."
    )
    roles: list[str] = Field(examples=[["consultant"]])
    site_ids: list[UUID]
    contract: str = Field(examples=["employee"])
    habilitations: list[str] = Field(examples=[["psychometric_tests"]])
    onboarded_at: datetime
    left_at: datetime | None = None
    version: int = Field(examples=[3])
    records: list[StaffRecordOut] = Field(default_factory=list)


class ScheduleBody(_Body):
    phase: Phase = Field(examples=["investigation"])
    modality: Modality = Field(examples=["in_person"])
    consultant_id: UUID = Field(examples=[STAFF])
    room_id: UUID | None = Field(
        None, description="Required in person, absent remote.", examples=[ROOM]
    )
    starts_at: BusinessTime = Field(examples=["2026-03-10T09:00:00Z"])
    planned_minutes: int = Field(strict=True, ge=15, le=480, examples=[120])
    assessment_reason: AssessmentReason | None = Field(
        None,
        description="Set when someone other than the referent leads an assessment session.",
        examples=["habilitation_required"],
    )
    assessment_habilitation: Code | None = Field(None, examples=["psychometric_tests"])


class RescheduleBody(_Body):
    starts_at: BusinessTime = Field(examples=["2026-03-12T14:00:00Z"])
    requested_by: Initiator = Field(examples=["beneficiary"])


class CancelBody(_Body):
    cancelled_by: Initiator = Field(examples=["beneficiary"])
    reason: CancellationReason = Field(examples=["illness"])


BeneficiaryMessage = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
]
"""What the beneficiary writes to their consultant: only in the mail, never published."""


class MoveRequestBody(_Body):
    starts_at: BusinessTime = Field(
        description="A start among the consultant's free slots (`GET /sessions/{id}/free-slots`).",
        examples=["2026-03-12T14:00:00Z"],
    )
    message: BeneficiaryMessage = Field(
        description="Why, in the beneficiary's words: sent to the consultant by e-mail, never "
        "published or logged.",
        examples=["Je suis en déplacement pour mon travail ce jour-là."],
    )


class AbsenceNoticeBody(_Body):
    reason: CancellationReason = Field(examples=["illness"])
    message: BeneficiaryMessage = Field(
        description="The beneficiary's words to the consultant: only in the e-mail.",
        examples=["Je suis malade, je vous recontacte pour une autre date."],
    )


class HeldBody(_Body):
    started_at: BusinessTime = Field(examples=["2026-03-10T09:05:00Z"])
    duration_minutes: int = Field(strict=True, ge=1, le=1440, examples=[115])


class SignBody(_Body):
    signed_at: BusinessTime | None = Field(
        None,
        description="When the signature was made; now if absent.",
        examples=["2026-03-10T11:00:00Z"],
    )


class Signatures(BaseModel):
    beneficiary: datetime | None = None
    consultant: datetime | None = None


class SessionOut(BaseModel):
    session_id: UUID = Field(examples=[SESSION])
    dossier_id: UUID = Field(examples=[DOSSIER])
    site_id: UUID = Field(examples=[SITE])
    consultant_id: UUID = Field(examples=[STAFF])
    room_id: UUID | None = Field(examples=[ROOM])
    modality: Modality
    phase: Phase
    starts_at: datetime
    planned_minutes: int = Field(examples=[120])
    status: str = Field(examples=["scheduled"])
    join_link: str | None = Field(None, examples=["https://visio.bilan.localhost/s/Xb3…"])
    held_started_at: datetime | None = None
    held_minutes: int | None = None
    signatures: Signatures
    version: int = Field(examples=[1])


class NamedStaff(BaseModel):
    staff_id: UUID = Field(examples=[STAFF])
    name: str | None = Field(None, examples=["Claire Dubois"])


class Place(BaseModel):
    room_id: UUID = Field(examples=[ROOM])
    place: str | None = Field(None, examples=["Lyon Part-Dieu, salle Rhône"])


class PeopleAndPlacesOut(BaseModel):
    """For the beneficiary's own schedule: names of whom they meet, where."""

    referent_id: UUID | None = Field(None, examples=[STAFF])
    staff: list[NamedStaff]
    rooms: list[Place]


class StaffRef(BaseModel):
    """Who a staff member is to the console: what their access tokens will say."""

    staff_id: UUID = Field(examples=[STAFF])
    roles: list[str] = Field(examples=[["consultant"]])
    site_ids: list[UUID] = Field(examples=[[SITE]])


class StaffContact(BaseModel):
    """How to write to a staff member, at send time (never stored by the caller)."""

    name: str = Field(examples=["Claire Dubois"])
    email: str = Field(examples=["claire.dubois@centre-bilan.fr"])


class FeedOut(BaseModel):
    url: str = Field(
        description="Give this address to a calendar app; rotate the secret if it leaks.",
        examples=["/calendars/3q2-…-xY.ics"],
    )


class SlotOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    minutes: int = Field(examples=[90])
