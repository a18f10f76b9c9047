"""HTTP routes of dossiers: HTTP in, domain commands out; no SQL here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from services.dossier.adapters import (
    convention_pdf,
    dossier_index,
    paper_documents,
    staff_directory,
)
from services.dossier.api import schemas as m
from services.dossier.api.deps import (
    Anyone,
    Assigners,
    Conductors,
    Managers,
    ManagersOrBeneficiary,
    RunCommand,
    Service,
    Staff,
    Tx,
    business_time,
    reader_of,
    set_etag,
)
from services.dossier.api.problems import PROBLEMS
from services.dossier.application.dossiers import DossierCheck, constant
from services.dossier.application.views import (
    administrative_view,
    enforce,
    parties,
    refuse_if_restricted,
    restricted_view,
)
from services.dossier.domain import access
from services.dossier.domain import dossier as d
from services.dossier.domain.access import Access
from services.dossier.domain.catalogue import CATALOGUE
from services.dossier.domain.deontology import CURRENT_VERSION, NOTICES
from services.dossier.domain.errors import FORBIDDEN, INVALID, NOT_FOUND, refuse
from shared.auth import Principal, Role
from shared.contracts.dossier import DisclosureRecipient, Phase
from shared.db import Connection
from shared.keystore import ERASED

router = APIRouter(tags=["dossiers"], responses=PROBLEMS)
REPRESENTATIVES = (Role.SITE_MANAGER, Role.ADMIN)
"""Who signs for the provider (the centre) and records paper signatures of a site."""
CONTENT_TAG = "bilan content (need-to-know, logged)"


def _exists(state: d.Dossier | None) -> d.Dossier:
    if state is None:
        raise refuse("dossier_not_found", "no such dossier", kind=NOT_FOUND)
    return state


def administers(principal: Principal) -> DossierCheck:
    """Administrative writes: the site's staff, or the beneficiary where the route allows."""
    reader = reader_of(principal)

    def check(state: d.Dossier | None) -> None:
        enforce(access.administrative(reader, parties(_exists(state))))
        refuse_if_restricted(reader, _exists(state))

    return check


def conducts(principal: Principal) -> DossierCheck:
    """Bilan content writes: the referent (or a conductor of the site before one is named)."""
    reader = reader_of(principal)

    def check(state: d.Dossier | None) -> None:
        enforce(access.conduct(reader, parties(_exists(state))))
        refuse_if_restricted(reader, _exists(state))

    return check


def administers_tests(principal: Principal) -> DossierCheck:
    """Assessments: as content writes, and also any psychologist of the site."""
    reader = reader_of(principal)

    def check(state: d.Dossier | None) -> None:
        dossier = parties(_exists(state))
        if access.conduct(reader, dossier) is not Access.ALLOWED:
            if "psychologist" in reader.roles:
                enforce(access.administrative(reader, dossier))
            else:
                enforce(access.conduct(reader, dossier))
        refuse_if_restricted(reader, _exists(state))

    return check


@router.get("/deontology-notice", summary="The current deontology notice and its version")
async def deontology_notice(_who: Anyone) -> dict[str, Any]:
    return {"notice_version": CURRENT_VERSION, "text": NOTICES[CURRENT_VERSION]}


@router.get("/instruments", summary="The assessment catalogue and required habilitations")
async def instruments(_who: Staff) -> list[dict[str, Any]]:
    return [
        {
            "instrument_id": i.instrument_id,
            "name": i.name,
            "required_habilitation": i.required_habilitation,
        }
        for i in CATALOGUE.values()
    ]


@router.post(
    "/dossiers",
    status_code=201,
    summary="Open a dossier from an enquiry (identity stored only encrypted)",
    response_model=m.CommandResult,
)
async def open_dossier(
    body: m.OpenDossier, who: Managers, svc: Service, conn: Tx, response: Response
) -> m.CommandResult:
    who.require_site(body.site_id)
    identity = None
    if body.beneficiary_id is None:
        if body.name is None or body.email is None:
            raise refuse(
                "identity_required", "a new beneficiary needs a name and an e-mail", kind=INVALID
            )
        identity = (body.name, body.email, body.phone)
    elif body.name or body.email or body.phone:
        raise refuse(
            "identity_with_existing_beneficiary",
            "identity is corrected through a rectification request, not a new dossier",
            kind=INVALID,
        )
    outcome, beneficiary_id = await svc.commands.open_dossier(
        conn,
        site_id=str(body.site_id),
        funding_route=body.funding_route,
        enquiry_received_at=business_time(body.enquiry_received_at, svc.clock),
        beneficiary_id=str(body.beneficiary_id) if body.beneficiary_id else None,
        identity=identity,
    )
    assert outcome.state is not None
    set_etag(response, outcome.version)
    response.headers["Location"] = f"/dossiers/{outcome.state.dossier_id}"
    response.headers["X-Beneficiary-ID"] = beneficiary_id
    return m.CommandResult(
        id=outcome.state.dossier_id,
        version=outcome.version,
        events=[e.type for e in outcome.events],
    )


@router.get("/dossiers", summary="Dossiers of the sites the caller covers (no content)")
async def list_dossiers(
    who: Staff,
    svc: Service,
    conn: Tx,
    status: Annotated[
        Literal["open", "completed", "abandoned", "withdrawn"] | None, Query()
    ] = None,
    mine: Annotated[bool, Query(description="Only dossiers where I am the referent.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Pseudonymous index rows; identity and content are never listed."""
    sites = None if who.all_sites else [s for s in who.sites if _is_uuid(s)]
    return await dossier_index.list_dossiers(
        conn,
        site_ids=sites,
        referent_id=who.subject if mine and _is_uuid(who.subject) else None,
        status=status,
        limit=limit,
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@router.get("/dossiers/{dossier_id}", summary="Administrative facts of a dossier (no content)")
async def get_dossier(
    dossier_id: UUID, who: Anyone, svc: Service, conn: Tx, response: Response
) -> dict[str, Any]:
    state, version = await svc.reader.load(conn, str(dossier_id))
    reader = reader_of(who)
    enforce(access.administrative(reader, parties(state)))
    set_etag(response, version)
    if state.processing_restricted and "beneficiary" not in reader.roles:
        # Restricted (GDPR art. 18): the dossier is only stored. Staff learn that it exists
        # and why nothing can be done with it, not its facts.
        return restricted_view(state)
    return administrative_view(
        state,
        await svc.reader.held_minutes(conn, str(dossier_id)),
        svc.settings.withdrawal_period(state.funding_route),
        svc.clock.now(),
    )


@router.post("/dossiers/{dossier_id}/deontology-acknowledgements", response_model=m.CommandResult)
async def acknowledge_deontology(
    dossier_id: UUID,
    body: m.AcknowledgeDeontology,
    who: ManagersOrBeneficiary,
    run: RunCommand,
) -> m.CommandResult:
    """The beneficiary acknowledged the versioned deontology notice (L6313-4)."""
    command = d.AcknowledgeDeontology(
        body.notice_version, frozenset(NOTICES), run.time(body.acknowledged_at)
    )
    return await run(dossier_id, constant(command), administers(who))


@router.put(
    "/dossiers/{dossier_id}/needs-analysis", response_model=m.CommandResult, tags=[CONTENT_TAG]
)
async def record_needs_analysis(
    dossier_id: UUID,
    body: m.RecordNeedsAnalysis,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """The needs analysis (narrative encrypted under the dossier's working-documents key)."""
    at = run.time(body.recorded_at)

    async def build(c: Connection, _s: d.Dossier | None) -> d.Command:
        sealed = await run.svc.commands.seal_work(
            c, str(dossier_id), "needs_analysis", body.narrative
        )
        return d.RecordNeedsAnalysis(sealed, body.disability_accommodation_requested, at)

    return await run(dossier_id, build, conducts(who))


@router.put("/dossiers/{dossier_id}/programme", response_model=m.CommandResult)
async def agree_programme(
    dossier_id: UUID,
    body: m.AgreeProgramme,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """The personalised programme agreed with the beneficiary (R6313-4 1° c)."""
    command = d.AgreeProgramme(body.planned_minutes, body.modality, run.time(body.agreed_at))
    return await run(dossier_id, constant(command), conducts(who))


@router.post("/dossiers/{dossier_id}/conventions", status_code=201, response_model=m.CommandResult)
async def draft_convention(
    dossier_id: UUID,
    body: m.DraftConvention,
    who: Managers,
    run: RunCommand,
) -> m.CommandResult:
    """Draft the convention with its mandatory mentions (R6313-8); parties follow the kind."""
    mentions = {k: getattr(body, k) for k in d.MANDATORY_MENTIONS}
    convention_id = str(uuid.uuid4())
    command = d.DraftConvention(
        convention_id,
        body.kind,
        mentions,
        body.duration_minutes,
        body.price_cents,
        run.svc.clock.now(),
    )
    result = await run(dossier_id, constant(command), administers(who))
    run.response.headers["Location"] = f"/dossiers/{dossier_id}/conventions/{convention_id}"
    return result


@router.post(
    "/dossiers/{dossier_id}/conventions/{convention_id}/sending", response_model=m.CommandResult
)
async def send_convention(
    dossier_id: UUID,
    convention_id: UUID,
    body: m.SendConvention,
    who: Managers,
    run: RunCommand,
) -> m.CommandResult:
    """Send for signature; the acceptance deadline follows the kind (10 days, R6313-8)."""
    sent_at = run.time(body.sent_at)

    async def build(_c: Connection, state: d.Dossier | None) -> d.Command:
        convention = next(
            (c for c in _exists(state).conventions if c.convention_id == str(convention_id)), None
        )
        kind = convention.kind if convention else "tripartite"
        return d.SendConvention(
            str(convention_id), run.svc.settings.acceptance_period(kind), sent_at
        )

    return await run(dossier_id, build, administers(who))


@router.post(
    "/dossiers/{dossier_id}/conventions/{convention_id}/signatures", response_model=m.CommandResult
)
async def sign_convention(
    dossier_id: UUID,
    convention_id: UUID,
    body: m.SignConvention,
    who: ManagersOrBeneficiary,
    run: RunCommand,
) -> m.CommandResult:
    """One party signs; the last required signature makes the convention signed.

    A party signs online for itself only: the beneficiary as the beneficiary, a site manager
    (or an admin) as the provider. Another party's signature on paper is recorded by a site
    manager, an admin or the referent, with its scan."""
    signed_at = run.time(body.signed_at)
    scan = body.paper_document
    if Role.BENEFICIARY in who.roles:
        if body.party != "beneficiary":
            raise refuse(
                "sign_for_yourself", "a beneficiary signs only for themselves", kind=FORBIDDEN
            )
        if scan is not None or body.method not in (None, "electronic"):
            raise refuse(
                "paper_document_by_staff", "staff record signatures on paper", kind=INVALID
            )
    elif scan is not None and body.method == "electronic":
        raise refuse(
            "invalid_method",
            "a signature recorded with its scan is handwritten or platform, not electronic",
            kind=INVALID,
        )
    elif scan is None and body.method not in (None, "electronic"):
        raise refuse(
            "paper_document_required",
            "a handwritten or platform signature is recorded with its scan (paper_document)",
            kind=INVALID,
        )
    elif scan is None and (body.party != "provider" or not who.has_any_role(REPRESENTATIVES)):
        raise refuse(
            "sign_for_yourself",
            "a party signs for itself; staff record another party's handwritten signature "
            "with its scan (paper_document)",
            kind=FORBIDDEN,
        )

    async def build(c: Connection, state: d.Dossier | None) -> d.Command:
        if scan is None:
            return d.SignConvention(str(convention_id), body.party, signed_at)
        dossier = _exists(state)
        if not who.has_any_role(REPRESENTATIVES) and who.subject != dossier.referent_id:
            raise refuse(
                "not_the_referent",
                "paper signatures are recorded by a site manager, an admin or the referent",
                kind=FORBIDDEN,
            )
        document_id = await _file_scan(
            c,
            run.svc,
            who,
            dossier,
            scan,
            f"convention_signature:{convention_id}:{body.party}",
            run.svc.clock.now(),
        )
        return d.SignConvention(
            str(convention_id),
            body.party,
            signed_at,
            "handwritten" if body.method is None else body.method,
            document_id,
        )

    return await run(dossier_id, build, administers(who))


@router.post(
    "/dossiers/{dossier_id}/conventions/{convention_id}/withdrawal", response_model=m.CommandResult
)
async def exercise_withdrawal(
    dossier_id: UUID,
    convention_id: UUID,
    body: m.ExerciseWithdrawal,
    who: ManagersOrBeneficiary,
    run: RunCommand,
) -> m.CommandResult:
    """Withdrawal within the funding route's period (L6353-5; CPF terms)."""
    at = run.time(body.exercised_at)

    async def build(_c: Connection, state: d.Dossier | None) -> d.Command:
        period = run.svc.settings.withdrawal_period(_exists(state).funding_route)
        return d.ExerciseWithdrawal(str(convention_id), period, at)

    return await run(dossier_id, build, administers(who))


@router.get(
    "/dossiers/{dossier_id}/conventions/{convention_id}/document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def convention_document(
    dossier_id: UUID, convention_id: UUID, who: ManagersOrBeneficiary, svc: Service, conn: Tx
) -> Response:
    """The convention as a PDF with its mandatory mentions."""
    state, _ = await svc.reader.load(conn, str(dossier_id))
    enforce(access.administrative(reader_of(who), parties(state)))
    convention = next((c for c in state.conventions if c.convention_id == str(convention_id)), None)
    if convention is None:
        raise refuse("convention_not_found", "no such convention", kind=NOT_FOUND)
    beneficiary = (await svc.commands.beneficiaries.load(state.beneficiary_id, conn=conn)).state
    name = "[effacé]"
    if beneficiary is not None:
        plain = await svc.commands.keys.decrypt(
            beneficiary.beneficiary_id, beneficiary.sealed_name, purpose="identity.name", conn=conn
        )
        name = "[effacé]" if plain is ERASED else str(plain)
    document = convention_pdf.render(convention, name, svc.settings.provider())
    return Response(document, media_type="application/pdf")


@router.put("/dossiers/{dossier_id}/referent", response_model=m.CommandResult)
async def assign_referent(
    dossier_id: UUID,
    body: m.AssignReferent,
    who: Assigners,
    run: RunCommand,
) -> m.CommandResult:
    """Name the referent: an active consultant or psychologist of the dossier's site."""
    at = run.svc.clock.now()

    async def build(c: Connection, _s: d.Dossier | None) -> d.Command:
        staff = await staff_directory.find(c, str(body.consultant_id))
        return d.AssignReferent(staff, body.reason, at, who.subject)

    return await run(dossier_id, build, administers(who))


@router.post("/dossiers/{dossier_id}/phases/{phase}/start", response_model=m.CommandResult)
async def start_phase(
    dossier_id: UUID,
    phase: Phase,
    body: m.PhaseTransition,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """Start a phase, in the order of R6313-4 (rules 3 and 4)."""
    command = d.StartPhase(phase, run.time(body.at))
    return await run(dossier_id, constant(command), conducts(who))


@router.post("/dossiers/{dossier_id}/phases/{phase}/completion", response_model=m.CommandResult)
async def complete_phase(
    dossier_id: UUID,
    phase: Phase,
    body: m.PhaseTransition,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    command = d.CompletePhase(phase, run.time(body.at))
    return await run(dossier_id, constant(command), conducts(who))


@router.post(
    "/dossiers/{dossier_id}/assessments",
    status_code=201,
    response_model=m.CommandResult,
    tags=[CONTENT_TAG],
)
async def administer_assessment(
    dossier_id: UUID,
    body: m.AdministerAssessment,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """Record a test given by the caller; one needing a habilitation needs its holder (rule 6)."""
    at = run.time(body.administered_at)
    assessment_id = str(uuid.uuid4())

    async def build(c: Connection, _s: d.Dossier | None) -> d.Command:
        staff = await staff_directory.find(c, who.subject)
        sealed = await run.svc.commands.seal_work(
            c, str(dossier_id), "assessment_result", body.result
        )
        instrument = CATALOGUE.get(str(body.instrument_id))
        return d.AdministerAssessment(assessment_id, instrument, staff, sealed, at)

    result = await run(dossier_id, build, administers_tests(who))
    run.response.headers["Location"] = f"/dossiers/{dossier_id}/assessments/{assessment_id}"
    return result


@router.post(
    "/dossiers/{dossier_id}/field-inquiries", status_code=201, response_model=m.CommandResult
)
async def complete_field_inquiry(
    dossier_id: UUID,
    body: m.CompleteFieldInquiry,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """A contact with the world of work; its notes are a working document."""
    at = run.time(body.completed_at)

    async def build(c: Connection, _s: d.Dossier | None) -> d.Command:
        notes = None
        if body.notes:
            notes = await run.svc.commands.seal_work(
                c, str(dossier_id), "field_inquiry_notes", body.notes
            )
        return d.CompleteFieldInquiry(body.contact_type, notes, at)

    return await run(dossier_id, build, conducts(who))


@router.post(
    "/dossiers/{dossier_id}/training-needs", status_code=201, response_model=m.CommandResult
)
async def identify_training_need(
    dossier_id: UUID,
    body: m.IdentifyTrainingNeed,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """A training or VAE need; the certification code is public, the description is content."""
    at = run.time(body.identified_at)

    async def build(c: Connection, _s: d.Dossier | None) -> d.Command:
        text = None
        if body.description:
            text = await run.svc.commands.seal_work(
                c, str(dossier_id), "training_need", body.description
            )
        return d.IdentifyTrainingNeed(body.kind, body.certification_code, text, at)

    return await run(dossier_id, build, conducts(who))


@router.put(
    "/dossiers/{dossier_id}/training-needs/{index}/follow-up", response_model=m.CommandResult
)
async def follow_up_training_need(
    dossier_id: UUID,
    index: Annotated[int, Path(ge=0, le=1000)],
    body: m.FollowUpTrainingNeed,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """Where the `index`-th training or VAE need (0 = the first identified) stands now:
    `identified`, `in_progress`, `enrolled`, `completed` or `abandoned`; also after the bilan."""
    command = d.FollowUpTrainingNeed(index, body.status, run.time(body.at))
    return await run(dossier_id, constant(command), conducts(who))


@router.post("/dossiers/{dossier_id}/detailed-results-handover", response_model=m.CommandResult)
async def hand_over_results(
    dossier_id: UUID,
    body: m.HandOverResults,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    command = d.HandOverDetailedResults(run.time(body.handed_over_at))
    return await run(dossier_id, constant(command), conducts(who))


@router.post(
    "/dossiers/{dossier_id}/synthesis/drafts",
    status_code=201,
    response_model=m.CommandResult,
    tags=[CONTENT_TAG],
)
async def draft_synthesis(
    dossier_id: UUID,
    body: m.DraftSynthesis,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """A new version of the synthesis, encrypted under the dossier's synthesis key."""
    at = run.svc.clock.now()

    async def build(c: Connection, _s: d.Dossier | None) -> d.Command:
        sealed = await run.svc.commands.seal_synthesis(c, str(dossier_id), body.content)
        return d.DraftSynthesis(who.subject, sealed, at)

    return await run(dossier_id, build, conducts(who))


@router.post("/dossiers/{dossier_id}/synthesis/delivery", response_model=m.CommandResult)
async def deliver_synthesis(
    dossier_id: UUID,
    body: m.DeliverSynthesis,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """The latest version reached the beneficiary through `channel`."""
    command = d.DeliverSynthesis(body.channel, run.time(body.delivered_at))
    return await run(dossier_id, constant(command), conducts(who))


@router.post("/dossiers/{dossier_id}/disclosure-consents", response_model=m.CommandResult)
async def give_consent(
    dossier_id: UUID,
    body: m.GiveDisclosureConsent,
    who: ManagersOrBeneficiary,
    run: RunCommand,
) -> m.CommandResult:
    """The beneficiary's consent to disclose results and synthesis to a third party (L6313-4):
    given by the beneficiary, or recorded by the site's staff with the written consent's scan.
    """
    now = run.svc.clock.now()
    scan = body.written_consent
    if Role.BENEFICIARY in who.roles:
        if scan is not None:
            raise refuse("written_consent_by_staff", "staff record written consents", kind=INVALID)
        command = d.GiveDisclosureConsent(body.recipient, now)
        return await run(dossier_id, constant(command), administers(who))
    if scan is None:
        raise refuse(
            "consent_by_beneficiary",
            "only the beneficiary consents; staff record a written consent with its scan",
            kind=FORBIDDEN,
        )

    async def build(c: Connection, state: d.Dossier | None) -> d.Command:
        dossier = _exists(state)
        document_id = await _file_scan(
            c, run.svc, who, dossier, scan, f"disclosure_consent:{body.recipient}", now
        )
        return d.GiveDisclosureConsent(body.recipient, now, "handwritten", document_id)

    return await run(dossier_id, build, administers(who))


@router.delete(
    "/dossiers/{dossier_id}/disclosure-consents/{recipient}", response_model=m.CommandResult
)
async def revoke_consent(
    dossier_id: UUID,
    recipient: DisclosureRecipient,
    who: ManagersOrBeneficiary,
    run: RunCommand,
) -> m.CommandResult:
    """The beneficiary withdraws their consent (L6313-4: at any time)."""
    if Role.BENEFICIARY not in who.roles:
        raise refuse(
            "consent_by_beneficiary", "only the beneficiary withdraws their consent", kind=FORBIDDEN
        )
    command = d.RevokeDisclosureConsent(recipient, run.svc.clock.now())
    return await run(dossier_id, constant(command), administers(who))


@router.post(
    "/dossiers/{dossier_id}/disclosure-consents/{recipient}/withdrawal",
    response_model=m.CommandResult,
)
async def record_written_withdrawal(
    dossier_id: UUID,
    recipient: DisclosureRecipient,
    body: m.WrittenWithdrawal,
    who: Managers,
    run: RunCommand,
) -> m.CommandResult:
    """A withdrawal the beneficiary sent in writing, recorded by the site's staff with its scan
    (the beneficiary withdraws online with `DELETE …/disclosure-consents/{recipient}`)."""
    now = run.svc.clock.now()

    async def build(c: Connection, state: d.Dossier | None) -> d.Command:
        dossier = _exists(state)
        await _file_scan(
            c,
            run.svc,
            who,
            dossier,
            body.written_withdrawal,
            f"disclosure_consent_withdrawal:{recipient}",
            now,
        )
        return d.RevokeDisclosureConsent(recipient, now)

    return await run(dossier_id, build, administers(who))


@router.post("/dossiers/{dossier_id}/synthesis/disclosures", response_model=m.CommandResult)
async def disclose_synthesis(
    dossier_id: UUID,
    body: m.DisclosureConsent,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """Record that the delivered synthesis went to a third party; refused (403) unless the
    beneficiary's consent for that recipient is in force (L6313-4)."""
    command = d.DiscloseSynthesis(body.recipient, run.svc.clock.now())
    return await run(dossier_id, constant(command), conducts(who))


@router.post("/dossiers/{dossier_id}/completion", response_model=m.CommandResult)
async def complete_dossier(
    dossier_id: UUID,
    body: m.CompleteDossier,
    who: Conductors,
    run: RunCommand,
) -> m.CommandResult:
    """Complete the bilan (rule 5) with its held time; documents are destroyed after the grace
    period."""
    at = run.time(body.completed_at)

    async def build(c: Connection, _s: d.Dossier | None) -> d.Command:
        return d.CompleteDossier(await run.svc.commands.held_minutes(c, str(dossier_id)), at)

    return await run(dossier_id, build, conducts(who))


@router.post("/dossiers/{dossier_id}/abandonment", response_model=m.CommandResult)
async def abandon_dossier(
    dossier_id: UUID,
    body: m.AbandonDossier,
    who: Managers,
    run: RunCommand,
) -> m.CommandResult:
    command = d.AbandonDossier(body.reason_category, body.initiated_by, run.time(body.abandoned_at))
    return await run(dossier_id, constant(command), administers(who))


@router.post("/dossiers/{dossier_id}/retention", response_model=m.CommandResult)
async def agree_retention(
    dossier_id: UUID,
    body: m.AgreeRetention,
    who: Managers,
    run: RunCommand,
) -> m.CommandResult:
    """Record the beneficiary's written agreement to keep documents, one year at most."""
    command = d.AgreeRetention(
        tuple(body.document_classes),
        body.justification,
        body.expires_at,
        run.time(body.agreed_at),
    )
    return await run(dossier_id, constant(command), administers(who))


@router.get("/dossiers/{dossier_id}/content", tags=[CONTENT_TAG])
async def read_content(dossier_id: UUID, who: Anyone, svc: Service, conn: Tx) -> dict[str, Any]:
    """Working documents: the beneficiary and the referent only; every read is logged."""
    return await svc.reader.content(conn, str(dossier_id), reader_of(who))


@router.get("/dossiers/{dossier_id}/assessments/{assessment_id}", tags=[CONTENT_TAG])
async def read_assessment(
    dossier_id: UUID, assessment_id: UUID, who: Anyone, svc: Service, conn: Tx
) -> dict[str, Any]:
    """A test result: the beneficiary, the referent, or the psychologist who administered it."""
    return await svc.reader.assessment(conn, str(dossier_id), str(assessment_id), reader_of(who))


@router.get("/dossiers/{dossier_id}/synthesis", tags=[CONTENT_TAG])
async def read_synthesis(dossier_id: UUID, who: Anyone, svc: Service, conn: Tx) -> dict[str, Any]:
    """The beneficiary downloads the delivered synthesis; the referent reads the latest draft."""
    return await svc.reader.synthesis(conn, str(dossier_id), reader_of(who))


async def _file_scan(
    c: Connection,
    svc: Service,
    who: Principal,
    dossier: d.Dossier,
    scan: m.ScannedDocument,
    backs: str,
    at: datetime,
) -> str:
    """Store the scan backing what staff record for someone else (sealed under the
    beneficiary's key); returns its document id."""
    return await paper_documents.store(
        c,
        svc.commands.keys,
        beneficiary_id=dossier.beneficiary_id,
        dossier_id=dossier.dossier_id,
        backs=backs,
        media_type=scan.media_type,
        content=scan.content(),
        recorded_by=who.subject,
        at=at,
    )
