"""The session handlers on the in-memory event store and a fake clock, the read models they
consult replaced by what the test says: what each command records, publishes and refuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from services.scheduling.adapters import read_models as rm
from services.scheduling.application.sessions import ScheduleRequest, SessionService
from services.scheduling.domain import sessions as s
from services.scheduling.domain.errors import Rejected
from services.scheduling.settings import Settings
from shared.aggregate.refusal import RefusalKind
from shared.auth import Principal, Role
from shared.eventstore import ConcurrencyError
from tests.unit.application_fakes import T0, FakePool, FakeRuntime

SITE = uuid4()
CONSULTANT = uuid4()
ROOM = uuid4()


@dataclass
class ReadModels:
    """What the handlers read besides the event store."""

    dossiers: dict[UUID, s.DossierFacts] = field(default_factory=dict)
    sessions: dict[UUID, tuple[s.Session, int]] = field(default_factory=dict)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def nothing(*_: Any, **__: Any) -> None:
            return None

        async def dossier_facts(_db: Any, dossier_id: UUID) -> s.DossierFacts | None:
            return self.dossiers.get(dossier_id)

        async def staff_facts(_db: Any, staff_id: UUID) -> s.StaffFacts | None:
            if staff_id != CONSULTANT:
                return None
            return s.StaffFacts(CONSULTANT, frozenset({"consultant"}), frozenset({SITE}))

        async def room_facts(_db: Any, room_id: UUID | None) -> s.RoomFacts | None:
            return s.RoomFacts(ROOM, SITE, confidential=True) if room_id == ROOM else None

        async def no_bookings(*_: Any, **__: Any) -> list[s.Booking]:
            return []

        async def minutes_used(*_: Any, **__: Any) -> int:
            return 0

        async def save_session(_db: Any, state: s.Session, version: int) -> None:
            self.sessions[state.session_id] = (state, version)

        async def session_version(_conn: Any, session_id: UUID) -> int | None:
            found = self.sessions.get(session_id)
            return found[1] if found else None

        for name, fake in {
            "lock": nothing,
            "dossier_facts": dossier_facts,
            "staff_facts": staff_facts,
            "room_facts": room_facts,
            "bookings_around": no_bookings,
            "bilan_minutes_used": minutes_used,
            "save_session": save_session,
            "session_version": session_version,
            "place_of": nothing,
        }.items():
            monkeypatch.setattr(rm, name, fake)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> tuple[SessionService, FakeRuntime, ReadModels]:
    runtime, models = FakeRuntime(), ReadModels()
    models.install(monkeypatch)
    pool = FakePool()
    service = SessionService(
        pool=lambda: cast(Any, pool),
        store=lambda: runtime.store,
        clock=runtime.clock,
        settings=Settings(),
    )
    return service, runtime, models


def _dossier(models: ReadModels, *, signed: bool) -> UUID:
    dossier_id = uuid4()
    models.dossiers[dossier_id] = s.DossierFacts(
        dossier_id=dossier_id,
        site_id=SITE,
        beneficiary_id=uuid4(),
        convention_signed_at=T0 - timedelta(days=3) if signed else None,
        referent_id=CONSULTANT,
    )
    return dossier_id


MANAGER = Principal("manager-1", frozenset({Role.SITE_MANAGER}), frozenset({str(SITE)}))
ELSEWHERE = Principal("manager-2", frozenset({Role.SITE_MANAGER}), frozenset({str(uuid4())}))


def _request(**changes: Any) -> ScheduleRequest:
    fields: dict[str, Any] = {
        "phase": "preliminary",
        "modality": "in_person",
        "consultant_id": CONSULTANT,
        "room_id": ROOM,
        "starts_at": T0 + timedelta(days=2),
        "planned_minutes": 90,
    }
    return ScheduleRequest(**{**fields, **changes})


async def test_scheduling_records_the_session_publishes_it_and_queues_its_reminders(
    world: tuple[SessionService, FakeRuntime, ReadModels],
) -> None:
    service, runtime, models = world
    dossier_id = _dossier(models, signed=True)
    state, version = await service.schedule(MANAGER, dossier_id, _request())
    assert version == 1
    assert (state.status, state.consultant_id, state.room_id) == ("scheduled", CONSULTANT, ROOM)
    (stored,) = await runtime.stream(f"session-{state.session_id}")
    assert stored.type == "SessionScheduled"
    assert stored.data["planned_minutes"] == 90
    assert runtime.published() == ["SessionScheduled"]
    assert models.sessions[state.session_id] == (state, 1)
    queued = cast(Any, service)._pool().conn.statements
    assert any("mail_outbox" in statement for statement in queued)  # its reminders


async def test_a_bilan_session_waits_for_the_signed_convention(
    world: tuple[SessionService, FakeRuntime, ReadModels],
) -> None:
    service, runtime, models = world
    dossier_id = _dossier(models, signed=False)
    with pytest.raises(Rejected) as refused:
        await service.schedule(MANAGER, dossier_id, _request())
    assert refused.value.kind.value == RefusalKind.CONFLICT.value
    assert refused.value.code == "convention_not_signed"
    assert runtime.store.outbox == []
    with pytest.raises(Rejected) as unknown:
        await service.schedule(MANAGER, uuid4(), _request())
    assert (unknown.value.kind.value, unknown.value.code) == ("not_found", "dossier_not_found")


async def test_moving_and_cancelling_need_the_version_read_and_the_site(
    world: tuple[SessionService, FakeRuntime, ReadModels],
) -> None:
    service, runtime, models = world
    dossier_id = _dossier(models, signed=True)
    state, _ = await service.schedule(MANAGER, dossier_id, _request())
    later = T0 + timedelta(days=3)
    with pytest.raises(Rejected) as hidden:
        await service.reschedule(ELSEWHERE, state.session_id, 1, later, "beneficiary")
    assert (hidden.value.kind.value, hidden.value.code) == ("not_found", "session_not_found")
    moved, version = await service.reschedule(MANAGER, state.session_id, 1, later, "beneficiary")
    assert (moved.starts_at, version) == (later, 2)
    with pytest.raises(ConcurrencyError):
        await service.cancel(MANAGER, state.session_id, 1, "provider", "illness")
    runtime.clock.advance(timedelta(hours=1))
    cancelled, version = await service.cancel(MANAGER, state.session_id, 2, "provider", "illness")
    assert (cancelled.status, version) == ("cancelled", 3)
    assert await runtime.types(f"session-{state.session_id}") == [
        "SessionScheduled",
        "SessionRescheduled",
        "SessionCancelled",
    ]
    assert runtime.published() == ["SessionScheduled", "SessionRescheduled", "SessionCancelled"]
