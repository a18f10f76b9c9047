"""Read side: the administrative view of a dossier, its content (decrypted, logged), the
beneficiary's access export and contact."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.dossier.adapters import access_log, dossier_index
from services.dossier.application import aggregates, content_keys
from services.dossier.domain import access, held_time
from services.dossier.domain import beneficiary as b
from services.dossier.domain import dossier as d
from services.dossier.domain.access import Access, DossierParties, Reader
from services.dossier.domain.errors import CONFLICT, FORBIDDEN, GONE, NOT_FOUND, refuse
from shared.clock import Clock
from shared.db import Connection
from shared.eventstore import EventStore
from shared.keystore import ERASED, KeyStore
from shared.runtime import ServiceRuntime

DESTROYED = "destroyed"
"""Stands for a document whose key was shredded."""
REFUSED_PREFIX = "refused:"
"""Marks an access-log entry of a read that was refused (`refused:synthesis`)."""


def parties(state: d.Dossier) -> DossierParties:
    return DossierParties(state.beneficiary_id, state.site_id, state.referent_id)


def enforce(decision: Access) -> None:
    """Turn a policy decision into the answer: 404 hides, 403 forbids."""
    if decision is Access.HIDDEN:
        raise refuse("dossier_not_found", "no such dossier", kind=NOT_FOUND)
    if decision is Access.FORBIDDEN:
        raise refuse("forbidden", "professional secrecy: you may not see this", kind=FORBIDDEN)


def refuse_if_restricted(reader: Reader, state: d.Dossier) -> None:
    """Under a restriction (GDPR art. 18) the dossier is only stored: nobody but the
    beneficiary processes it until the restriction is lifted (the timers of legal obligations
    still run: they do not pass through here)."""
    if state.processing_restricted and "beneficiary" not in reader.roles:
        raise refuse(
            "processing_restricted",
            "the beneficiary restricted the processing of their data (GDPR art. 18): only "
            "storage until the restriction is lifted",
            kind=CONFLICT,
        )


def restricted_view(state: d.Dossier) -> dict[str, Any]:
    """What staff see of a dossier under a restriction: that it exists, where, and that it is
    only stored (GDPR art. 18), not its facts."""
    return {
        "dossier_id": state.dossier_id,
        "site_id": state.site_id,
        "status": state.status,
        "processing_restricted": True,
    }


def administrative_view(
    state: d.Dossier,
    held_minutes: int,
    withdrawal_period: timedelta | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Facts anyone of the site may see: dates, phases, durations, convention; no content.
    `withdrawal_period` is the funding route's (settings): with it, a signed convention says
    until when the beneficiary may withdraw (`withdrawal_until`, None without a right) and,
    by the service's clock `now`, whether they still may (`withdrawal_open`)."""
    convention = state.convention
    withdrawal_until = (
        convention.signed_at + withdrawal_period
        if convention is not None
        and convention.signed_at is not None
        and withdrawal_period is not None
        else None
    )
    return {
        "dossier_id": state.dossier_id,
        "beneficiary_id": state.beneficiary_id,
        "site_id": state.site_id,
        "funding_route": state.funding_route,
        "status": state.status,
        "enquiry_received_at": state.enquiry_received_at,
        "opened_at": state.opened_at,
        "ended_at": state.ended_at,
        "deontology_notice_version": state.notice_version,
        "needs_analysis_recorded": state.needs_analysis is not None,
        "disability_accommodation_requested": state.disability_accommodation_requested,
        "planned_minutes": state.planned_minutes,
        "modality": state.modality,
        "referent_id": state.referent_id,
        "referent_history": [
            {
                "consultant_id": x.consultant_id,
                "previous_consultant_id": x.previous_consultant_id,
                "reason": x.reason,
                "assigned_at": x.assigned_at,
                "assigned_by": x.assigned_by,
            }
            for x in state.referent_history
        ],
        "phases": {
            phase: {
                "started_at": state.phases_started.get(phase),
                "completed_at": state.phases_completed.get(phase),
            }
            for phase in d.PHASES
        },
        "held_minutes": held_minutes,
        "convention": None
        if convention is None
        else {
            "convention_id": convention.convention_id,
            "kind": convention.kind,
            "status": convention.status,
            "required_parties": list(convention.required_parties),
            "signatures": convention.signatures,
            "acceptance_deadline": convention.acceptance_deadline,
            "signed_at": convention.signed_at,
            "withdrawal_until": withdrawal_until,
            "withdrawal_open": withdrawal_until is not None
            and convention.status == "signed"
            and now is not None
            and now <= withdrawal_until,
            "duration_minutes": convention.duration_minutes,
            "price_cents": convention.price_cents,
        },
        "assessments": [
            {
                "assessment_id": a.assessment_id,
                "instrument_id": a.instrument_id,
                "administered_by": a.administered_by,
                "administered_at": a.administered_at,
            }
            for a in state.assessments
        ],
        "field_inquiries": state.field_inquiries,
        "training_needs": [
            {
                "kind": kind,
                "certification_code": code,
                "follow_up": state.training_follow_ups.get(n, ("identified", None))[0],
                "follow_up_at": state.training_follow_ups.get(n, ("identified", None))[1],
            }
            for n, (kind, code, _) in enumerate(state.training_needs)
        ],
        "detailed_results_handed_over_at": state.results_handed_over_at,
        "synthesis_versions": len(state.synthesis_drafts),
        "synthesis_delivered": None
        if state.synthesis_delivered is None
        else {
            "synthesis_version": state.synthesis_delivered.synthesis_version,
            "channel": state.synthesis_delivered.channel,
            "delivered_at": state.synthesis_delivered.delivered_at,
        },
        "disclosure_consents": sorted(state.consents),
        "synthesis_disclosures": [
            {
                "recipient": x.recipient,
                "synthesis_version": x.synthesis_version,
                "disclosed_at": x.disclosed_at,
            }
            for x in state.disclosures
        ],
        "retention": None
        if state.retention is None
        else {
            "document_classes": list(state.retention.document_classes),
            "justification": state.retention.justification,
            "expires_at": state.retention.expires_at,
        },
        "destroyed_document_classes": sorted(state.destroyed),
        "processing_restricted": state.processing_restricted,
    }


class ContentReader:
    """Decrypts a dossier's content and records every read of it."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self._dossiers = aggregates.dossiers(runtime)
        self._beneficiaries = aggregates.beneficiaries(runtime)
        self._held_times = aggregates.held_times(runtime)

    @property
    def store(self) -> EventStore:
        return self._runtime.store

    @property
    def keys(self) -> KeyStore:
        return self._runtime.keys

    @property
    def clock(self) -> Clock:
        return self._runtime.clock

    async def _open(
        self, conn: Connection, subject: str, sealed: str | None, purpose: str
    ) -> str | None:
        if sealed is None:
            return None
        plain = await self.keys.decrypt(subject, sealed, purpose=purpose, conn=conn)
        return DESTROYED if plain is ERASED else str(plain)

    async def _log(self, conn: Connection, state: d.Dossier, reader: Reader, what: str) -> None:
        await access_log.record(
            conn,
            beneficiary_id=state.beneficiary_id,
            dossier_id=state.dossier_id,
            reader_id=reader.subject,
            reader_roles=sorted(reader.roles),
            what=what,
            at=self.clock.now(),
        )

    async def _enforce_logged(
        self, state: d.Dossier, reader: Reader, decision: Access, what: str
    ) -> None:
        """`enforce`, after logging a refused attempt: an attempt on someone's content is worth
        their knowing as much as a read. On a connection of its own, so that it outlives the
        request's transaction, which the refusal rolls back."""
        if decision is Access.ALLOWED:
            return
        async with self._runtime.pool.acquire() as own:
            await access_log.record(
                own,
                beneficiary_id=state.beneficiary_id,
                dossier_id=state.dossier_id,
                reader_id=reader.subject,
                reader_roles=sorted(reader.roles),
                what=f"{REFUSED_PREFIX}{what}",
                at=self.clock.now(),
            )
        enforce(decision)

    async def held_minutes(self, conn: Connection, dossier_id: str) -> int:
        held = (await self._held_times.load(dossier_id, conn=conn)).state
        return (held or held_time.HeldTime()).minutes

    async def load(self, conn: Connection, dossier_id: str) -> tuple[d.Dossier, int]:
        loaded = await self._dossiers.load(dossier_id, conn=conn)
        if loaded.state is None:
            raise refuse("dossier_not_found", "no such dossier", kind=NOT_FOUND)
        return loaded.state, loaded.version

    async def working_documents(self, conn: Connection, state: d.Dossier) -> dict[str, Any]:
        key = content_keys.work_key(state.dossier_id)
        return {
            "needs_analysis": await self._open(conn, key, state.needs_analysis, "needs_analysis"),
            "field_inquiry_notes": [
                await self._open(conn, key, n, "field_inquiry_notes") for n in state.field_notes
            ],
            "training_needs": [
                {
                    "kind": kind,
                    "certification_code": code,
                    "description": await self._open(conn, key, text, "training_need"),
                }
                for kind, code, text in state.training_needs
            ],
            "assessments": [
                {
                    "assessment_id": a.assessment_id,
                    "instrument_id": a.instrument_id,
                    "administered_by": a.administered_by,
                    "administered_at": a.administered_at,
                    "result": await self._open(conn, key, a.sealed_result, "assessment_result"),
                }
                for a in state.assessments
            ],
        }

    async def content(self, conn: Connection, dossier_id: str, reader: Reader) -> dict[str, Any]:
        """The working documents, for the beneficiary and the referent."""
        state, _ = await self.load(conn, dossier_id)
        await self._enforce_logged(
            state, reader, access.content(reader, parties(state)), "working_documents"
        )
        refuse_if_restricted(reader, state)
        if "working_documents" in state.destroyed:
            raise refuse(
                "content_destroyed",
                "the working documents were destroyed at the end of the bilan (R6313-7)",
                kind=GONE,
            )
        await self._log(conn, state, reader, "working_documents")
        return {"dossier_id": dossier_id, **await self.working_documents(conn, state)}

    async def assessment(
        self, conn: Connection, dossier_id: str, assessment_id: str, reader: Reader
    ) -> dict[str, Any]:
        """One test result: the beneficiary, the referent, or the psychologist who gave it."""
        state, _ = await self.load(conn, dossier_id)
        found = next((a for a in state.assessments if a.assessment_id == assessment_id), None)
        await self._enforce_logged(
            state,
            reader,
            access.assessment_result(
                reader, parties(state), found.administered_by if found else ""
            ),
            f"assessment_result:{assessment_id}",
        )
        refuse_if_restricted(reader, state)
        if found is None:
            raise refuse("assessment_not_found", "no such assessment", kind=NOT_FOUND)
        if "working_documents" in state.destroyed:
            raise refuse("content_destroyed", "the test results were destroyed", kind=GONE)
        await self._log(conn, state, reader, f"assessment_result:{assessment_id}")
        key = content_keys.work_key(dossier_id)
        return {
            "assessment_id": found.assessment_id,
            "instrument_id": found.instrument_id,
            "administered_by": found.administered_by,
            "administered_at": found.administered_at,
            "result": await self._open(conn, key, found.sealed_result, "assessment_result"),
        }

    async def synthesis(self, conn: Connection, dossier_id: str, reader: Reader) -> dict[str, Any]:
        """The beneficiary gets the delivered synthesis; the referent the latest draft."""
        state, _ = await self.load(conn, dossier_id)
        await self._enforce_logged(
            state, reader, access.content(reader, parties(state)), "synthesis"
        )
        if "synthesis" in state.destroyed:
            raise refuse("content_destroyed", "the synthesis was destroyed (R6313-7)", kind=GONE)
        wanted: d.SynthesisDrafted | None = None
        if "beneficiary" in reader.roles:
            delivered = state.synthesis_delivered
            if delivered is not None:
                wanted = state.synthesis_drafts[delivered.synthesis_version - 1]
        elif state.synthesis_drafts:
            wanted = state.synthesis_drafts[-1]
        if wanted is None:
            raise refuse("no_synthesis", "there is no synthesis to read yet", kind=NOT_FOUND)
        await self._log(conn, state, reader, f"synthesis:v{wanted.synthesis_version}")
        text = await self._open(
            conn, content_keys.synthesis_key(dossier_id), wanted.sealed_content, "synthesis"
        )
        return {
            "dossier_id": dossier_id,
            "synthesis_version": wanted.synthesis_version,
            "delivered": state.synthesis_delivered is not None
            and state.synthesis_delivered.synthesis_version == wanted.synthesis_version,
            "content": text,
        }

    async def identity(self, conn: Connection, state: b.Beneficiary) -> dict[str, str | None]:
        """Name, e-mail and phone, or `destroyed` markers after erasure."""
        subject = state.beneficiary_id
        return {
            "name": await self._open(conn, subject, state.sealed_name, "identity.name"),
            "email": await self._open(conn, subject, state.sealed_email, "identity.email"),
            "phone": await self._open(conn, subject, state.sealed_phone, "identity.phone"),
        }

    async def export(self, conn: Connection, beneficiary_id: str, reader: Reader) -> dict[str, Any]:
        """Everything held on the beneficiary (GDPR art. 15), for themselves."""
        if "beneficiary" not in reader.roles or reader.subject != beneficiary_id:
            raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)
        state = (await self._beneficiaries.load(beneficiary_id, conn=conn)).state
        if state is None:
            raise refuse("beneficiary_not_found", "no such beneficiary", kind=NOT_FOUND)
        dossiers = []
        for dossier_id, _status in await dossier_index.dossiers_of(conn, beneficiary_id):
            dossier, _ = await self.load(conn, dossier_id)
            history = await self.store.read_stream(self._dossiers.stream_id(dossier_id), conn=conn)
            synthesis = [
                {
                    "synthesis_version": draft.synthesis_version,
                    "content": await self._open(
                        conn,
                        content_keys.synthesis_key(dossier_id),
                        draft.sealed_content,
                        "synthesis",
                    ),
                }
                for draft in dossier.synthesis_drafts
            ]
            dossiers.append(
                {
                    **administrative_view(dossier, await self.held_minutes(conn, dossier_id)),
                    "content": await self.working_documents(conn, dossier),
                    "synthesis": synthesis,
                    "history": [
                        {"type": e.type, "version": e.version, "recorded_at": e.recorded_at}
                        for e in history
                    ],
                }
            )
        log_entries = await access_log.entries(conn, beneficiary_id)
        export = {
            "beneficiary_id": beneficiary_id,
            "identity": await self.identity(conn, state),
            "erased_at": state.erased_at,
            "dossiers": dossiers,
            "data_requests": [request_view(r, self.clock.now()) for r in state.requests.values()],
            "access_log": log_entries,
            "exported_at": self.clock.now(),
        }
        await access_log.record(
            conn,
            beneficiary_id=beneficiary_id,
            dossier_id=None,
            reader_id=reader.subject,
            reader_roles=sorted(reader.roles),
            what="export",
            at=self.clock.now(),
        )
        return export


def request_view(request: b.DataRequest, now: datetime) -> dict[str, Any]:
    """A data-subject request with its due date and whether it is overdue (art. 12(3))."""
    return {
        "request_id": request.request_id,
        "kind": request.kind,
        "received_at": request.received_at,
        "due_at": request.due_at,
        "status": request.status,
        "answered_at": request.answered_at,
        "legal_ground": request.legal_ground,
        "overdue": request.status == "open" and now >= request.due_at,
    }
