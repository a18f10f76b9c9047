"""Data-subject requests and the need-to-know policy, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.dossier.domain import access
from services.dossier.domain import beneficiary as b
from services.dossier.domain.access import Access, DossierParties, Reader
from services.dossier.domain.errors import DomainError

T0 = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)


def run(state: b.Beneficiary | None, command: b.Command) -> tuple[b.Beneficiary, list[str]]:
    events = b.decide(state, command, T0)
    for event in events:
        state = b.evolve(state, event)
    assert state is not None
    return state, [e.type for e in events]


def registered() -> b.Beneficiary:
    state, _ = run(None, b.RegisterBeneficiary("ben", "n", "e", None))
    return state


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2028, 1, 30, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
    ],
)
def test_due_one_calendar_month_later(received: datetime, due: datetime) -> None:
    assert b.one_month_after(received) == due


def test_rectification_applies_the_named_values_once() -> None:
    state, _ = run(registered(), b.ReceiveDataRequest("r1", "rectification", T0, sealed_email="e2"))
    assert state.requests["r1"].due_at == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    state, kinds = run(state, b.FulfilDataRequest("r1", 0, T0))
    assert kinds == ["IdentityRectified", "DataSubjectRequestFulfilled"]
    assert (state.sealed_name, state.sealed_email) == ("n", "e2")
    with pytest.raises(DomainError) as caught:
        b.decide(state, b.RefuseDataRequest("r1", "art17_3_b", T0), T0)
    assert caught.value.code == "request_answered"


def test_rectification_without_values_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        b.decide(registered(), b.ReceiveDataRequest("r1", "rectification", T0), T0)
    assert caught.value.code == "rectification_changes"


def test_erasure_waits_for_bilans_under_way() -> None:
    state, _ = run(registered(), b.ReceiveDataRequest("r1", "erasure", T0))
    with pytest.raises(DomainError) as caught:
        b.decide(state, b.FulfilDataRequest("r1", 1, T0), T0)
    assert caught.value.code == "erasure_blocked_dossier_in_progress"
    state, kinds = run(state, b.FulfilDataRequest("r1", 0, T0))
    assert kinds == ["DataSubjectRequestFulfilled", "BeneficiaryErased"]
    with pytest.raises(DomainError) as after:
        b.decide(state, b.ReceiveDataRequest("r2", "access", T0), T0)
    assert after.value.status == 410


def test_refusal_needs_a_known_legal_ground() -> None:
    state, _ = run(registered(), b.ReceiveDataRequest("r1", "erasure", T0))
    with pytest.raises(DomainError):
        b.decide(state, b.RefuseDataRequest("r1", "because", T0), T0)
    state, kinds = run(state, b.RefuseDataRequest("r1", "art17_3_b", T0))
    assert kinds == ["DataSubjectRequestRefused"]
    assert state.requests["r1"].legal_ground == "art17_3_b"


DOSSIER = DossierParties(beneficiary_id="ben", site_id="s1", referent_id="c-1")


def reader(subject: str, *roles: str, sites: tuple[str, ...] = ("s1",)) -> Reader:
    return Reader(subject, frozenset(roles), frozenset(sites))


@pytest.mark.parametrize(
    ("who", "admin", "content"),
    [
        (reader("ben", "beneficiary"), Access.ALLOWED, Access.ALLOWED),
        (reader("other", "beneficiary"), Access.HIDDEN, Access.HIDDEN),
        (reader("c-1", "consultant"), Access.ALLOWED, Access.ALLOWED),
        (reader("c-2", "consultant"), Access.ALLOWED, Access.FORBIDDEN),
        (reader("c-1", "consultant", sites=("s2",)), Access.HIDDEN, Access.HIDDEN),
        (reader("m", "site_manager"), Access.ALLOWED, Access.FORBIDDEN),
        (reader("a", "admin"), Access.ALLOWED, Access.FORBIDDEN),
        (reader("q", "auditor"), Access.ALLOWED, Access.FORBIDDEN),
        (reader("m", "site_manager", sites=("s2",)), Access.HIDDEN, Access.HIDDEN),
    ],
)
def test_need_to_know(who: Reader, admin: Access, content: Access) -> None:
    assert access.administrative(who, DOSSIER) is admin
    assert access.content(who, DOSSIER) is content


def test_psychologist_reads_only_the_results_they_administered() -> None:
    psy = reader("p-1", "psychologist")
    assert access.content(psy, DOSSIER) is Access.FORBIDDEN
    assert access.assessment_result(psy, DOSSIER, "p-1") is Access.ALLOWED
    assert access.assessment_result(psy, DOSSIER, "p-2") is Access.FORBIDDEN


def test_only_the_referent_conducts_once_named() -> None:
    assert access.conduct(reader("c-1", "consultant"), DOSSIER) is Access.ALLOWED
    assert access.conduct(reader("c-2", "consultant"), DOSSIER) is Access.FORBIDDEN
    assert access.conduct(reader("m", "site_manager"), DOSSIER) is Access.FORBIDDEN
    unassigned = DossierParties("ben", "s1", None)
    assert access.conduct(reader("c-2", "consultant"), unassigned) is Access.ALLOWED
