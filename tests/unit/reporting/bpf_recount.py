"""An independent recount of the BPF figures, from the contract events themselves.

Written from indicators.md ("Annual BPF extract") without the reporting service's facts,
rows or rounding helper: a list of events in, the figures out. Tests compare it with what
the service serves, on hand-built and random histories and on the real topics.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from fractions import Fraction
from math import floor
from typing import Any

from shared.contracts import (
    ConventionDrafted,
    ConventionSigned,
    DossierAbandoned,
    DossierCompleted,
    DossierOpened,
    IntegrationEvent,
    SessionHeld,
    StaffMemberOnboarded,
    WithdrawalExercised,
)

BILAN = {"preliminary", "investigation", "conclusion"}
TYPE_OF = {
    "employer_plan": "a",
    "conge_reclassement": "a",
    "opco": "a",
    "cpf": "a",
    "france_travail": "c",
    "self_funded": "d",
    "public_employer": "e",
}
LINE_OF = {
    "employer_plan": "C-1",
    "conge_reclassement": "C-1",
    "cpf": "C-2-e",
    "opco": "C-2-h",
    "public_employer": "C-3",
    "france_travail": "C-7",
    "self_funded": "C-9",
}


def recount(
    events: list[IntegrationEvent], first: date, after_last: date, site: str | None
) -> dict[str, Any]:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(after_last.year, after_last.month, after_last.day, tzinfo=UTC)
    opened: dict[str, DossierOpened] = {}
    drafted: dict[str, list[ConventionDrafted]] = defaultdict(list)
    signed: dict[str, list[ConventionSigned]] = defaultdict(list)
    sessions: dict[str, dict[str, SessionHeld]] = defaultdict(dict)
    ends: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    contracts: dict[str, str] = {}
    for e in events:
        if isinstance(e, DossierOpened):
            opened.setdefault(str(e.dossier_id), e)
        elif isinstance(e, ConventionDrafted):
            drafted[str(e.dossier_id)].append(e)
        elif isinstance(e, ConventionSigned):
            signed[str(e.dossier_id)].append(e)
        elif isinstance(e, SessionHeld):
            # A redelivered SessionHeld is the same session: one per session id.
            sessions[str(e.dossier_id)][str(e.session_id)] = e
        elif isinstance(e, DossierCompleted):
            ends[str(e.dossier_id)].append((e.completed_at, 0))
        elif isinstance(e, DossierAbandoned):
            ends[str(e.dossier_id)].append((e.abandoned_at, 1))
        elif isinstance(e, WithdrawalExercised):
            ends[str(e.dossier_id)].append((e.exercised_at, 1))
        elif isinstance(e, StaffMemberOnboarded):
            contracts.setdefault(str(e.staff_id), e.contract)
    dossiers = set(opened) | set(sessions) | set(ends) | set(drafted) | set(signed)
    if site is not None:
        dossiers = {d for d in dossiers if d in opened and str(opened[d].site_id) == site}
    bilans = 0
    minutes = 0
    types = {t: [0, 0] for t in "acde"}
    revenue = dict.fromkeys(("C-1", "C-2-e", "C-2-h", "C-3", "C-7", "C-9"), 0)
    staff: dict[str, dict[str, int]] = {"employee": {}, "subcontractor": {}}
    warnings = []
    for d in dossiers:
        funding = opened[d].funding_route if d in opened else None
        signed_ids = {str(s.convention_id) for s in signed[d] if s.signed_at < end}
        candidates = [c for c in drafted[d] if str(c.convention_id) in signed_ids]
        convention = max(
            candidates, key=lambda c: (c.drafted_at, str(c.convention_id)), default=None
        )
        bilan_sessions = [s for s in sessions[d].values() if s.phase in BILAN]
        year = [s for s in bilan_sessions if start <= s.started_at < end]
        if year:
            bilans += 1
            m = sum(s.duration_minutes for s in year)
            minutes += m
            if funding in TYPE_OF:
                types[TYPE_OF[funding]][0] += 1
                types[TYPE_OF[funding]][1] += m
            for s in year:
                contract = contracts.get(str(s.consultant_id))
                if contract in staff:
                    lead = staff[contract]
                    lead[str(s.consultant_id)] = (
                        lead.get(str(s.consultant_id), 0) + s.duration_minutes
                    )
            if convention is None:
                warnings.append(("no_signed_convention", d))
            if funding == "cpf":
                warnings.append(("cpf_status_unknown", d))
            held = sum(s.duration_minutes for s in bilan_sessions if s.started_at < end)
            if convention is not None and held > convention.duration_minutes:
                warnings.append(("held_over_planned", d))
        if ends[d]:
            ended_at, abandoned = min(ends[d])
            if start <= ended_at < end:
                price = convention.price_cents if convention is not None else 0
                if price == 0:
                    warnings.append(("zero_price", d))
                amount = Fraction(price)
                if abandoned and convention is not None:
                    held = sum(
                        s.duration_minutes for s in bilan_sessions if s.started_at <= ended_at
                    )
                    ratio = min(Fraction(held, convention.duration_minutes), Fraction(1))
                    amount = price * ratio
                if funding in LINE_OF:
                    revenue[LINE_OF[funding]] += floor(amount + Fraction(1, 2))  # halves up
    return {
        "from": first.isoformat(),
        "to": after_last.isoformat(),
        "site": site,
        "bilans": bilans,
        "hours": minutes / 60,
        "trainees_by_type": {t: {"count": c, "hours": m / 60} for t, (c, m) in types.items()},
        "revenue_cents_by_line": revenue,
        "staff_hours": {
            "own": {
                "staff": len(staff["employee"]),
                "hours": sum(staff["employee"].values()) / 60,
            },
            "external": {
                "staff": len(staff["subcontractor"]),
                "hours": sum(staff["subcontractor"].values()) / 60,
            },
        },
        "warnings": [{"dossier_id": d, "code": c} for c, d in sorted(warnings)],
    }
