"""Staff rules and free slots, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.scheduling.domain.availability import Slot, WorkingHours, free_slots
from services.scheduling.domain.errors import Rejected
from services.scheduling.domain.sites import OpenSite, RegisterRoom, decide_room, decide_site
from services.scheduling.domain.staff import (
    EvaluateCompetence,
    OnboardStaffMember,
    RecordLeaving,
    RecordQualification,
    RecordTraining,
    StaffMember,
    decide,
    evolve,
    fold,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SITE = uuid.uuid4()


def onboarded() -> StaffMember:
    command = OnboardStaffMember(
        uuid.uuid4(), ("consultant",), (SITE,), "employee", frozenset({SITE})
    )
    state = fold(decide(None, command, NOW))
    assert state is not None
    return state


def test_onboarding_needs_open_sites_and_happens_once() -> None:
    staff_id = uuid.uuid4()
    elsewhere = uuid.uuid4()
    with pytest.raises(Rejected) as caught:
        decide(
            None,
            OnboardStaffMember(
                staff_id, ("consultant",), (elsewhere,), "employee", frozenset({SITE})
            ),
            NOW,
        )
    assert caught.value.code == "site_unknown"
    state = onboarded()
    with pytest.raises(Rejected) as caught:
        decide(
            state,
            OnboardStaffMember(staff_id, ("consultant",), (SITE,), "employee", frozenset({SITE})),
            NOW,
        )
    assert caught.value.code == "staff_exists"


def test_qualifications_add_habilitations_and_leaving_freezes_the_record() -> None:
    state = onboarded()
    for missing, code in [
        (RecordQualification("master_rh", ("psychometric_tests",), NOW, "rpps", "sealed",
                             "10001234567"),
         "psychologist_title_required"),
        (RecordQualification("master_psychologie", ("psychometric_tests",), NOW),
         "psychologist_registration_required"),
    ]:  # fmt: skip
        with pytest.raises(Rejected) as caught:
            decide(state, missing, NOW)
        assert caught.value.code == code
    events = decide(
        state,
        RecordQualification(
            "master_psychologie",
            ("psychometric_tests",),
            NOW,
            registry="rpps",
            registration_sealed="sealed-number",
            registration_number="10001234567",
        ),
        NOW,
    )
    for event in events:
        state = evolve(state, event)
    assert state.habilitations == {"psychometric_tests"}
    with pytest.raises(Rejected) as caught:
        decide(state, RecordTraining("ethics", 0, NOW), NOW)
    assert caught.value.code == "hours_invalid"
    with pytest.raises(Rejected) as caught:
        decide(state, EvaluateCompetence("meets", NOW + timedelta(days=1)), NOW)
    assert caught.value.code == "time_in_future"
    for event in decide(state, RecordLeaving(NOW), NOW):
        state = evolve(state, event)
    assert not state.active
    with pytest.raises(Rejected) as caught:
        decide(state, RecordTraining("ethics", 7, NOW), NOW)
    assert caught.value.code == "staff_left"


@pytest.mark.parametrize(
    ("registry", "number", "code"),
    [
        ("adeli", "12345678", "registration_number_invalid"),  # 8 digits
        ("adeli", "10001234567", "registration_number_invalid"),  # an RPPS length
        ("adeli", "69930123A", "registration_number_invalid"),
        ("adeli", "６９９３０１２３４", "registration_number_invalid"),  # full-width digits
        ("rpps", "699301234", "registration_number_invalid"),  # an ADELI length
        ("rpps", None, "registration_number_invalid"),
        (None, "699301234", "registration_registry_required"),
    ],
)
def test_a_psychologists_number_has_the_length_of_its_register(
    registry: str | None, number: str | None, code: str
) -> None:
    """ADELI 9 digits, RPPS 11, checked by the domain itself (not only by the API's schema):
    nothing is recorded, with or without the habilitation."""
    for habilitations in (("psychometric_tests",), ()):
        command = RecordQualification(
            "psychologue",
            habilitations,
            NOW,
            registry=registry,  # type: ignore[arg-type]
            registration_sealed="sealed",
            registration_number=number,
        )
        with pytest.raises(Rejected) as caught:
            decide(onboarded(), command, NOW)
        assert caught.value.code == code


@pytest.mark.parametrize(("registry", "number"), [("adeli", "699301234"), ("rpps", "10001234567")])
def test_a_psychologue_with_a_valid_number_gets_psychometric_tests(
    registry: str, number: str
) -> None:
    command = RecordQualification(
        "psychologue",
        ("psychometric_tests",),
        NOW,
        registry=registry,  # type: ignore[arg-type]
        registration_sealed="sealed",
        registration_number=number,
    )
    (event,) = decide(onboarded(), command, NOW)
    assert evolve(onboarded(), event).habilitations == {"psychometric_tests"}
    assert number not in repr(event)  # only the sealed form reaches the event


def test_rooms_belong_to_open_sites() -> None:
    assert decide_site(False, OpenSite(SITE, "Lyon", "ara"), NOW)
    with pytest.raises(Rejected) as caught:
        decide_site(True, OpenSite(SITE, "Lyon", "ara"), NOW)
    assert caught.value.code == "site_exists"
    with pytest.raises(Rejected) as caught:
        decide_room(False, RegisterRoom(uuid.uuid4(), SITE, "B12", True, site_exists=False), NOW)
    assert caught.value.code == "site_not_found"


HOURS = WorkingHours(time(9), time(12), frozenset({0, 1, 2, 3, 4}), "Europe/Paris")


def test_free_slots_skip_sessions_weekends_and_the_past() -> None:
    monday = date(2026, 3, 2)  # Paris is UTC+1 in March before the change of hour
    busy = [Slot(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 10, 0, tzinfo=UTC))]
    slots = free_slots(
        busy, monday, date(2026, 3, 8), HOURS, now=datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    )
    first_day = [s for s in slots if s.starts_at.date() == monday]
    assert [(s.starts_at.hour, s.starts_at.minute, s.ends_at.hour) for s in first_day] == [
        (8, 0, 9),  # opens at 09:00 Paris time, after `now`
        (10, 0, 11),
    ]
    assert {s.starts_at.date().weekday() for s in slots} == {0, 1, 2, 3, 4}
    assert len(slots) == 6
    later = free_slots([], monday, monday, HOURS, now=datetime(2026, 3, 2, 10, 45, tzinfo=UTC))
    assert later == []  # 15 minutes left is below the 30-minute minimum
