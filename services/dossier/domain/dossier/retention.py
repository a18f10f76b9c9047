"""Destruction and retention of the bilan's documents (R6313-7): destroyed when the action ends
(after the configured grace), except what the beneficiary agreed in writing to keep, for one
year at most; erasure destroys everything still held."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.dossier.domain.dossier.commands import (
    AgreeRetention,
    DestroyDueDocuments,
)
from services.dossier.domain.dossier.events import (
    RetentionAgreed,
    WorkingDocumentsDestroyed,
)
from services.dossier.domain.dossier.state import Dossier
from services.dossier.domain.errors import INVALID, refuse
from services.dossier.domain.events import DomainEvent

MAX_RETENTION = timedelta(days=365)
"""Documents kept with the beneficiary's written agreement: one year at most (R6313-7)."""
DOCUMENT_CLASSES: tuple[str, ...] = ("synthesis", "working_documents")


def agree_retention(state: Dossier, command: AgreeRetention) -> list[DomainEvent]:
    if state.ended_at is None:
        raise refuse("dossier_not_ended", "retention is agreed at the end of the bilan")
    if state.retention is not None:
        raise refuse("retention_exists", "a retention agreement is already recorded")
    classes = tuple(dict.fromkeys(command.document_classes))
    if not classes or any(c not in DOCUMENT_CLASSES for c in classes):
        raise refuse(
            "bad_document_classes", "name synthesis and/or working_documents", kind=INVALID
        )
    gone = [c for c in classes if c in state.destroyed]
    if gone:
        raise refuse("documents_destroyed", "already destroyed: " + ", ".join(gone))
    if command.expires_at <= command.agreed_at:
        raise refuse(
            "retention_expiry_in_past", "the retention must end after it is agreed", kind=INVALID
        )
    if command.expires_at > state.ended_at + MAX_RETENTION:
        raise refuse(
            "retention_too_long",
            "documents may be kept at most one year after the end of the bilan (R6313-7)",
            kind=INVALID,
        )
    return [RetentionAgreed(classes, command.justification, command.agreed_at, command.expires_at)]


DESTRUCTION_LEAD = timedelta(hours=1)
"""How long before its deadline a destruction happens: rule 7 wants it *within* the grace
period (or by the retention's expiry), and a timer firing at the deadline itself lands just
after it."""


def destruction_time(ended_at: datetime, deadline: datetime) -> datetime:
    """When to destroy what must be gone by `deadline`: a little before it."""
    return deadline - min(DESTRUCTION_LEAD, (deadline - ended_at) / 2)


def due_destruction(state: Dossier, grace: timedelta, now: datetime) -> tuple[str, ...]:
    """The document classes whose destruction is due at `now` (R6313-7, contract rule 7)."""
    if state.ended_at is None:
        return ()
    due = []
    for document_class in DOCUMENT_CLASSES:
        if document_class in state.destroyed:
            continue
        retained = (
            state.retention is not None and document_class in state.retention.document_classes
        )
        deadline = (
            state.retention.expires_at if retained and state.retention else state.ended_at + grace
        )
        if now >= destruction_time(state.ended_at, deadline):
            due.append(document_class)
    return tuple(due)


def destroy_due(state: Dossier, command: DestroyDueDocuments, now: datetime) -> list[DomainEvent]:
    due = due_destruction(state, command.grace, now)
    return [WorkingDocumentsDestroyed(due, "crypto_shred", now)] if due else []
