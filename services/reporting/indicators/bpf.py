"""The annual BPF extract (cerfa 10443) of indicators.md, computed from the facts.

Each figure follows the definition of "Annual BPF extract" word for word; where it leaves a
choice, the comment says which was made. Amounts are integer cents, computed exactly (no
floating point) and rounded per dossier, halves up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..facts.model import DossierFacts
from ..facts.state import FactStore
from .rows import BILAN_PHASES
from .stats import day_start

TRAINEE_TYPES: dict[str, str] = {
    "employer_plan": "a",
    "conge_reclassement": "a",
    "opco": "a",
    # The CPF does not say whether its holder is employed: `a`, with a warning.
    "cpf": "a",
    "france_travail": "c",
    "self_funded": "d",
    "public_employer": "e",
}
"""F-1: the trainee type of each funding route."""
TYPES = ("a", "c", "d", "e")
REVENUE_LINES: dict[str, str] = {
    "employer_plan": "C-1",
    "conge_reclassement": "C-1",
    "cpf": "C-2-e",
    "opco": "C-2-h",
    "public_employer": "C-3",
    "france_travail": "C-7",
    "self_funded": "C-9",
}
"""C: the revenue line of each funding route."""
LINES = ("C-1", "C-2-e", "C-2-h", "C-3", "C-7", "C-9")
STAFF_SIDES = {"employee": "own", "subcontractor": "external"}


@dataclass(frozen=True, slots=True)
class _Convention:
    price_cents: int
    duration_minutes: int


def signed_convention(d: DossierFacts, before: float) -> _Convention | None:
    """The dossier's signed convention: the last `ConventionDrafted` (by `drafted_at`) whose
    `convention_id` has a `ConventionSigned` before `before`."""
    signed = [
        (drafted_at, convention_id, price, minutes)
        for convention_id, (drafted_at, price, minutes) in d.conventions.items()
        if (signed_at := d.signed_conventions.get(convention_id)) is not None and signed_at < before
    ]
    if not signed:
        return None
    _, _, price, minutes = max(signed)
    return _Convention(int(price), int(minutes))


def round_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` to the nearest integer, halves up (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def bpf(store: FactStore, first: date, after_last: date, site: str | None) -> dict[str, Any]:
    """The extract for the financial year `[first, after_last)`, organisation-wide or a site."""
    start, end = day_start(first), day_start(after_last)
    bilans = 0
    minutes = 0
    trainees = {t: {"count": 0, "minutes": 0} for t in TYPES}
    revenue = dict.fromkeys(LINES, 0)
    staff_minutes: dict[str, dict[str, int]] = {"own": {}, "external": {}}
    warnings: list[tuple[str, str]] = []
    for dossier_id, d in store.dossiers.items():
        if site is not None and d.site_id != site:
            continue
        funding = None if d.funding is None else str(d.funding[1])
        convention = signed_convention(d, end)
        held = [
            (ce_id, float(started_at), int(duration))
            for ce_id, (started_at, phase, duration) in d.sessions.items()
            if phase in BILAN_PHASES
        ]
        in_year = [(ce_id, m) for ce_id, at, m in held if start <= at < end]
        if in_year:
            bilans += 1
            dossier_minutes = sum(m for _, m in in_year)
            minutes += dossier_minutes
            kind = TRAINEE_TYPES.get(funding or "")
            if kind is not None:
                trainees[kind]["count"] += 1
                trainees[kind]["minutes"] += dossier_minutes
            for ce_id, m in in_year:
                lead = d.session_leads.get(ce_id)
                staff = store.staff.get(lead) if lead is not None else None
                contract = None if staff is None or staff.contract is None else staff.contract[1]
                side = STAFF_SIDES.get(str(contract))
                if side is not None and lead is not None:
                    staff_minutes[side][lead] = staff_minutes[side].get(lead, 0) + m
            if convention is None:
                warnings.append(("no_signed_convention", dossier_id))
            if funding == "cpf":
                warnings.append(("cpf_status_unknown", dossier_id))
            held_to_end = sum(m for _, at, m in held if at < end)
            if convention is not None and held_to_end > convention.duration_minutes:
                warnings.append(("held_over_planned", dossier_id))
        ended = _first_end(d)
        if ended is not None and start <= ended[0] < end:
            price = 0 if convention is None else convention.price_cents
            if price == 0:
                warnings.append(("zero_price", dossier_id))
            amount = price
            if ended[1] != "completed" and convention is not None and price:
                # Abandoned or withdrawn: pro rata of the bilan-phase time held up to the end.
                used = sum(m for _, at, m in held if at <= ended[0])
                used = min(used, convention.duration_minutes)
                amount = round_half_up(price * used, convention.duration_minutes)
            line = REVENUE_LINES.get(funding or "")
            if line is not None:
                revenue[line] += amount
    return {
        "from": first.isoformat(),
        "to": after_last.isoformat(),
        "site": site,
        "bilans": bilans,
        "hours": minutes / 60,
        "trainees_by_type": {
            t: {"count": v["count"], "hours": v["minutes"] / 60} for t, v in trainees.items()
        },
        "revenue_cents_by_line": revenue,
        "staff_hours": {
            side: {"staff": len(leads), "hours": sum(leads.values()) / 60}
            for side, leads in staff_minutes.items()
        },
        "warnings": [{"dossier_id": d, "code": c} for c, d in sorted(warnings)],
    }


def _first_end(d: DossierFacts) -> tuple[float, str] | None:
    """The first of the dossier's `DossierCompleted`, `DossierAbandoned`, `WithdrawalExercised`.

    On a tie the completion wins (the bilan was delivered in full).
    """
    ends = []
    if d.completed is not None:
        ends.append((float(d.completed[0]), 0, "completed"))
    if d.abandoned is not None:
        ends.append((float(d.abandoned[0]), 1, "abandoned"))
    if d.withdrawn_at is not None:
        ends.append((d.withdrawn_at, 2, "withdrawn"))
    if not ends:
        return None
    at, _, how = min(ends)
    return at, how
