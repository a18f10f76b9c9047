"""The annual BPF extract: each figure on a hand-built year, and an independent recount of
random histories (`bpf_recount.py`, from the events, not the facts) gives the same numbers."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.reporting.indicators.bpf import bpf, round_half_up
from shared.contracts import (
    ConventionDrafted,
    ConventionSigned,
    DossierAbandoned,
    DossierCompleted,
    DossierOpened,
    SessionHeld,
    StaffMemberOnboarded,
    WithdrawalExercised,
)

from .bpf_recount import recount
from .history import SITE_A, SITE_B, History, at, new_id

YEAR = (date(2025, 1, 1), date(2026, 1, 1))


def _dossier(h: History, funding: str, site: str = SITE_A) -> uuid.UUID:
    dossier = new_id()
    h.add(DossierOpened, dossier_id=dossier, site_id=site, funding_route=funding)
    return dossier


def _convention(
    h: History, dossier: uuid.UUID, price: int, minutes: int, drafted: str, signed: str | None
) -> None:
    convention = new_id()
    h.add(
        ConventionDrafted,
        dossier_id=dossier,
        convention_id=convention,
        price_cents=price,
        duration_minutes=minutes,
        drafted_at=at(drafted),
    )
    if signed is not None:
        h.add(ConventionSigned, dossier_id=dossier, convention_id=convention, signed_at=at(signed))


def _held(
    h: History, dossier: uuid.UUID, phase: str, when: str, minutes: int, lead: uuid.UUID
) -> None:
    h.add(
        SessionHeld,
        session_id=new_id(),
        dossier_id=dossier,
        consultant_id=lead,
        phase=phase,
        started_at=at(when),
        duration_minutes=minutes,
    )


def year_history(
    site_a: str = SITE_A, site_b: str = SITE_B
) -> tuple[History, dict[str, uuid.UUID]]:
    """A year of six dossiers that exercises every BPF figure and warning."""
    h = History()
    own, external = new_id(), new_id()
    h.add(StaffMemberOnboarded, staff_id=own, contract="employee", site_ids=[site_a])
    h.add(StaffMemberOnboarded, staff_id=external, contract="subcontractor", site_ids=[site_a])
    cpf = _dossier(h, "cpf", site_a)
    _convention(h, cpf, 180_000, 1_200, "2025-01-02", "2025-01-05")
    _held(h, cpf, "conclusion", "2024-12-30T09:00", 60, own)  # before the year
    _held(h, cpf, "preliminary", "2025-01-10T09:00", 120, own)
    _held(h, cpf, "investigation", "2025-02-10T09:00", 180, external)
    h.add(DossierCompleted, dossier_id=cpf, completed_at=at("2025-03-01"))
    job_seeker = _dossier(h, "france_travail", site_a)
    _convention(h, job_seeker, 100_001, 600, "2025-01-01", "2025-01-03")
    _convention(h, job_seeker, 120_000, 800, "2025-01-02", None)  # never signed
    _held(h, job_seeker, "preliminary", "2025-01-15T09:00", 300, own)
    h.add(DossierAbandoned, dossier_id=job_seeker, abandoned_at=at("2025-02-01"))
    h.add(WithdrawalExercised, dossier_id=job_seeker, exercised_at=at("2025-02-05"))
    unsigned = _dossier(h, "self_funded", site_a)
    _held(h, unsigned, "preliminary", "2025-04-01T09:00", 60, external)
    h.add(DossierCompleted, dossier_id=unsigned, completed_at=at("2025-05-01"))
    agent = _dossier(h, "public_employer", site_b)
    _convention(h, agent, 90_000, 60, "2025-05-01", "2025-05-02")
    _held(h, agent, "preliminary", "2025-06-01T09:00", 90, external)
    h.add(WithdrawalExercised, dossier_id=agent, exercised_at=at("2025-06-02"))
    last_year = _dossier(h, "employer_plan", site_a)
    _convention(h, last_year, 50_000, 600, "2024-01-01", "2024-01-02")
    _held(h, last_year, "preliminary", "2024-02-01T09:00", 120, own)
    h.add(DossierCompleted, dossier_id=last_year, completed_at=at("2024-06-01"))
    follow_up_only = _dossier(h, "opco", site_a)
    _held(h, follow_up_only, "follow_up", "2025-07-01T09:00", 60, own)
    ids = {
        "cpf": cpf,
        "job_seeker": job_seeker,
        "unsigned": unsigned,
        "agent": agent,
        "own": own,
        "external": external,
    }
    return h, ids


def test_each_figure_of_a_hand_built_year() -> None:
    h, d = year_history()
    figures = bpf(h.store(), *YEAR, None)
    assert figures == {
        "from": "2025-01-01",
        "to": "2026-01-01",
        "site": None,
        "bilans": 4,
        "hours": 12.5,
        "trainees_by_type": {
            "a": {"count": 1, "hours": 5.0},
            "c": {"count": 1, "hours": 5.0},
            "d": {"count": 1, "hours": 1.0},
            "e": {"count": 1, "hours": 1.5},
        },
        "revenue_cents_by_line": {
            "C-1": 0,
            "C-2-e": 180_000,
            "C-2-h": 0,
            "C-3": 90_000,  # withdrawn after more than planned: the ratio is capped at 1
            "C-7": 50_001,  # abandoned half way: 100,001 × 300/600 = 50,000.5, halves up
            "C-9": 0,
        },
        "staff_hours": {
            "own": {"staff": 1, "hours": 7.0},
            "external": {"staff": 1, "hours": 5.5},
        },
        "warnings": [
            {"dossier_id": str(d["cpf"]), "code": "cpf_status_unknown"},
            {"dossier_id": str(d["agent"]), "code": "held_over_planned"},
            {"dossier_id": str(d["unsigned"]), "code": "no_signed_convention"},
            {"dossier_id": str(d["unsigned"]), "code": "zero_price"},
        ],
    }
    assert recount([e for _, e in h.events], *YEAR, None) == figures


def test_a_site_keeps_its_own_dossiers_and_their_sessions() -> None:
    h, d = year_history()
    figures = bpf(h.store(), *YEAR, SITE_A)
    assert figures["site"] == SITE_A
    assert (figures["bilans"], figures["hours"]) == (3, 11.0)
    assert figures["trainees_by_type"]["e"] == {"count": 0, "hours": 0.0}
    assert figures["revenue_cents_by_line"]["C-3"] == 0
    assert figures["staff_hours"]["external"] == {"staff": 1, "hours": 4.0}
    assert str(d["agent"]) not in str(figures["warnings"])
    assert recount([e for _, e in h.events], *YEAR, SITE_A) == figures


def test_round_half_up() -> None:
    assert [round_half_up(n, 2) for n in (0, 1, 2, 3, 5)] == [0, 1, 1, 2, 3]
    assert round_half_up(2_500_005, 10) == 250_001
    assert round_half_up(4, 3) == 1


FUNDINGS = [
    "cpf",
    "employer_plan",
    "conge_reclassement",
    "france_travail",
    "opco",
    "self_funded",
    "public_employer",
]
PHASES = ["information", "preliminary", "investigation", "conclusion", "follow_up"]
DAYS = [0, 60, 61, 62, 120, 200, 300, 425, 426, 430]


@st.composite
def histories(draw: Any) -> History:
    h = History()
    start = at("2024-11-01")

    def when() -> Any:
        # A few days, the year's edges among them (61: 2025-01-01, 426: 2026-01-01), so that
        # ties (a session at the moment of the end, two ends at once) are frequent.
        return start + timedelta(days=draw(st.sampled_from(DAYS)))

    staff = [new_id() for _ in range(3)]
    for lead in staff[:-1]:  # the last one is never onboarded: its hours count nowhere
        h.add(
            StaffMemberOnboarded,
            staff_id=lead,
            contract=draw(st.sampled_from(["employee", "subcontractor"])),
        )
    for _ in range(draw(st.integers(1, 6))):
        dossier = new_id()
        h.add(
            DossierOpened,
            dossier_id=dossier,
            site_id=draw(st.sampled_from([SITE_A, SITE_B])),
            funding_route=draw(st.sampled_from(FUNDINGS)),
        )
        conventions = []
        for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
            convention = new_id()
            conventions.append(convention)
            h.add(
                ConventionDrafted,
                dossier_id=dossier,
                convention_id=convention,
                price_cents=draw(st.sampled_from([0, 1, 99_999, 150_000, 240_001, 333_333])),
                duration_minutes=draw(st.sampled_from([60, 600, 1_200, 1_440])),
                drafted_at=when(),
            )
            if draw(st.sampled_from([True, True, False])):
                h.add(
                    ConventionSigned,
                    dossier_id=dossier,
                    convention_id=convention,
                    signed_at=when(),
                )
        for _ in range(draw(st.integers(0, 6))):
            h.add(
                SessionHeld,
                session_id=new_id(),
                dossier_id=dossier,
                consultant_id=draw(st.sampled_from(staff)),
                phase=draw(st.sampled_from(PHASES)),
                started_at=when(),
                duration_minutes=draw(st.sampled_from([30, 45, 90, 120, 180])),
            )
        for end in draw(
            st.lists(
                st.sampled_from([DossierCompleted, DossierAbandoned, WithdrawalExercised]),
                min_size=draw(st.sampled_from([0, 1, 1])),
                max_size=2,
            )
        ):
            field = {
                DossierCompleted: "completed_at",
                DossierAbandoned: "abandoned_at",
                WithdrawalExercised: "exercised_at",
            }[end]
            h.add(end, dossier_id=dossier, **{field: when()})
    return h


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from([None, SITE_A, SITE_B]), st.randoms(use_true_random=False))
def test_an_independent_recount_of_random_histories_gives_the_same_numbers(
    h: History, site: str | None, shuffle: random.Random
) -> None:
    events = list(h.events)
    shuffle.shuffle(events)  # arrival order does not matter, redelivery neither
    events += events[: len(events) // 3]
    served = bpf(h.store(events), *YEAR, site)
    assert served == recount([e for _, e in h.events], *YEAR, site)
