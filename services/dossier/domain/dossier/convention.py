"""The convention: drafting with its mandatory mentions (R6313-8 1° and 2°, L6353-4), the
parties by funding route (R6313-8 tripartite, L6353-3 individual contract, L6353-1 CPF terms,
the 2009/2010 public model), signatures, the acceptance deadline whose silence is refusal
(R6313-8) and the withdrawal period after signature (L6353-5; the CPF terms)."""

from __future__ import annotations

from datetime import datetime

from services.dossier.domain.dossier.commands import (
    DeemConventionRefused,
    DraftConvention,
    ExerciseWithdrawal,
    SendConvention,
    SignConvention,
)
from services.dossier.domain.dossier.events import (
    ConventionDeemedRefused,
    ConventionDrafted,
    ConventionSentForSignature,
    ConventionSigned,
    ConventionSignedByParty,
    WithdrawalExercised,
)
from services.dossier.domain.dossier.state import Convention, Dossier
from services.dossier.domain.errors import INVALID, NOT_FOUND, refuse
from services.dossier.domain.events import DomainEvent
from services.dossier.domain.held_time import MAX_HELD_MINUTES

REQUIRED_PARTIES: dict[str, tuple[str, ...]] = {
    # R6313-8: employer plan or congé de reclassement: employer, employee and provider.
    "tripartite": ("beneficiary", "employer", "provider"),
    # L6353-3: the self-funded individual contract binds the person and the provider.
    "individual_contract": ("beneficiary", "provider"),
    # L6353-1: on Mon Compte Formation the platform's terms stand in for the convention; the
    # holder's acceptance and the provider's are what the dossier records.
    "cpf": ("beneficiary", "provider"),
    # Arrêtés of 2009/2010: the public employer signs the model convention with both.
    "public_model": ("beneficiary", "employer", "provider"),
}

MANDATORY_MENTIONS: tuple[str, ...] = (
    "title",
    "objective",
    "content",
    "means",
    "period",
    "running_terms",
    "follow_up_terms",
    "handover_terms",
    "payment_terms",
)
"""R6313-8 1° and 2°: besides duration and price, which are numbers of their own."""


def find_convention(state: Dossier, convention_id: str) -> Convention:
    for convention in state.conventions:
        if convention.convention_id == convention_id:
            return convention
    raise refuse("convention_not_found", "no such convention on this dossier", kind=NOT_FOUND)


def draft_convention(state: Dossier, command: DraftConvention) -> list[DomainEvent]:
    current = state.convention
    if current is not None and current.status in ("drafted", "sent", "signed"):
        raise refuse(
            "convention_exists", "the dossier has a convention that is not refused or withdrawn"
        )
    if command.kind not in REQUIRED_PARTIES:
        raise refuse("unknown_convention_kind", "no such convention kind", kind=INVALID)
    missing = [m for m in MANDATORY_MENTIONS if not command.mentions.get(m, "").strip()]
    if missing:
        raise refuse(
            "mandatory_mentions_missing",
            "R6313-8 requires these mentions: " + ", ".join(missing),
            kind=INVALID,
        )
    if not 1 <= command.duration_minutes <= MAX_HELD_MINUTES:
        raise refuse("duration_out_of_range", "a bilan lasts 1 to 1,440 minutes", kind=INVALID)
    if command.price_cents < 0:
        raise refuse("negative_price", "the price cannot be negative", kind=INVALID)
    return [
        ConventionDrafted(
            command.convention_id,
            command.kind,
            REQUIRED_PARTIES[command.kind],
            {m: command.mentions[m] for m in MANDATORY_MENTIONS},
            command.duration_minutes,
            command.price_cents,
            command.drafted_at,
        )
    ]


def sign(state: Dossier, command: SignConvention) -> list[DomainEvent]:
    convention = find_convention(state, command.convention_id)
    if convention.status != "sent":
        raise refuse("convention_not_awaiting_signature", "the convention is not out for signature")
    if command.party not in convention.required_parties:
        raise refuse("party_not_required", f"{command.party} is not a party to this convention")
    if command.party in convention.signatures:
        raise refuse("party_already_signed", f"{command.party} has already signed")
    assert convention.acceptance_deadline is not None
    if command.signed_at > convention.acceptance_deadline:
        # R6313-8: silence until the deadline is refusal; a late signature cannot revive it.
        raise refuse("acceptance_deadline_passed", "the acceptance deadline has passed")
    if convention.sent_at is not None and command.signed_at < convention.sent_at:
        raise refuse(
            "signed_before_sent", "a party cannot sign before the convention was sent", kind=INVALID
        )
    if command.method == "handwritten" and command.document_id is None:
        raise refuse(
            "paper_document_required", "a handwritten signature needs its scan", kind=INVALID
        )
    events: list[DomainEvent] = [
        ConventionSignedByParty(
            convention.convention_id,
            command.party,
            command.signed_at,
            command.method,
            command.document_id,
        )
    ]
    if set(convention.signatures) | {command.party} == set(convention.required_parties):
        events.append(ConventionSigned(convention.convention_id, command.signed_at))
    return events


def deem_refused(
    state: Dossier, command: DeemConventionRefused, now: datetime
) -> list[DomainEvent]:
    convention = find_convention(state, command.convention_id)
    # The timer may fire after a signature or an end: then silence did not happen, nothing to do.
    if state.ended or convention.status != "sent" or convention.acceptance_deadline is None:
        return []
    if now < convention.acceptance_deadline:
        return []
    return [ConventionDeemedRefused(convention.convention_id, convention.acceptance_deadline, now)]


def withdraw(state: Dossier, command: ExerciseWithdrawal) -> list[DomainEvent]:
    convention = find_convention(state, command.convention_id)
    if convention.status != "signed" or convention.signed_at is None:
        raise refuse("convention_not_signed", "withdrawal applies to a signed convention")
    if command.withdrawal_period is None:
        raise refuse(
            "no_withdrawal_right", "this funding route has no withdrawal period after signature"
        )
    if command.exercised_at > convention.signed_at + command.withdrawal_period:
        raise refuse("withdrawal_period_over", "the withdrawal period has ended")
    return [WithdrawalExercised(convention.convention_id, command.exercised_at)]


def send(state: Dossier, command: SendConvention) -> list[DomainEvent]:
    convention = find_convention(state, command.convention_id)
    if convention.status != "drafted":
        raise refuse("convention_not_draft", "only a draft convention can be sent")
    return [
        ConventionSentForSignature(
            convention.convention_id,
            command.sent_at,
            command.sent_at + command.acceptance_period,
        )
    ]
