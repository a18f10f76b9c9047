"""The complaints register and the improvement plan's handlers, on the in-memory event store
and a fake clock: what each command records, publishes and refuses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast
from uuid import uuid4

import pytest

from services.survey.application.actions import ImprovementPlan
from services.survey.application.complaints import ComplaintRegister
from services.survey.domain import complaint as c
from services.survey.settings import SurveySettings
from shared.aggregate import RefusalKind, Refused
from shared.eventstore import ConcurrencyError
from tests.unit.application_fakes import T0, FakeConnection, FakeRuntime

SITE = uuid4()
DESCRIPTION = "Mme Durand n'a jamais eu de rappel"


def _register() -> tuple[ComplaintRegister, FakeRuntime, FakeConnection]:
    runtime = FakeRuntime()
    register = ComplaintRegister(cast(Any, runtime), SurveySettings())
    return register, runtime, FakeConnection()


async def _receive(register: ComplaintRegister, conn: FakeConnection) -> Any:
    return await register.receive(
        cast(Any, conn),
        complaint_id=uuid4(),
        site_id=SITE,
        dossier_id=None,
        complainant_role="funder",
        category="organisation",
        channel="email",
        description=DESCRIPTION,
        received_at=None,
        recorded_by="staff-1",
    )


async def test_a_received_complaint_is_recorded_sealed_published_and_projected() -> None:
    register, runtime, conn = _register()
    saved = await _receive(register, conn)
    state = saved.state
    assert saved.version == 1
    stream = f"complaint-{state.complaint_id}"
    (stored,) = await runtime.stream(stream)
    assert stored.type == "ComplaintReceived"
    assert DESCRIPTION not in str(stored.data)  # only the sealed text is kept
    assert stored.data["received_at"] == T0.isoformat()
    assert state.acknowledge_due_at == T0 + timedelta(days=2)  # two working days (Mon → Wed)
    assert runtime.published() == ["ComplaintReceived"]
    assert runtime.keys.sealed == [(str(state.complaint_id), "complaint.description")]
    assert conn.wrote("complaints")
    assert (await register.texts(state))["description"] == DESCRIPTION


async def test_the_steps_follow_in_order_at_the_version_read() -> None:
    register, runtime, conn = _register()
    complaint_id = (await _receive(register, conn)).state.complaint_id
    db = cast(Any, conn)
    with pytest.raises(Refused) as early:
        await register.answer(db, complaint_id, 1, "Nous vous rappelons", None)
    assert (early.value.kind, early.value.code) == (
        RefusalKind.CONFLICT,
        "complaint_not_acknowledged",
    )
    assert len(runtime.keys.sealed) == 1  # a refused answer seals nothing
    runtime.clock.advance(timedelta(hours=3))
    acknowledged = await register.handle(db, complaint_id, 1, c.AcknowledgeComplaint(None))
    assert acknowledged.version == 2
    with pytest.raises(ConcurrencyError):
        await register.handle(db, complaint_id, 1, c.CloseComplaint("upheld", None))
    answered = await register.answer(db, complaint_id, 2, "Nous vous rappelons", None)
    closed = await register.handle(db, complaint_id, 3, c.CloseComplaint("upheld", None))
    assert (answered.version, closed.version) == (3, 4)
    assert await runtime.types(f"complaint-{complaint_id}") == [
        "ComplaintReceived",
        "ComplaintAcknowledged",
        "ComplaintAnswered",
        "ComplaintClosed",
    ]
    assert runtime.published() == [
        "ComplaintReceived",
        "ComplaintAcknowledged",
        "ComplaintAnswered",
        "ComplaintClosed",
    ]
    assert closed.state is not None
    assert closed.state.resolution == "upheld"
    assert closed.state.acknowledged_at == T0 + timedelta(hours=3)


async def test_a_step_on_an_unknown_complaint_is_not_found() -> None:
    register, runtime, conn = _register()
    with pytest.raises(Refused) as unknown:
        await register.handle(cast(Any, conn), uuid4(), 0, c.AcknowledgeComplaint(None))
    assert unknown.value.kind is RefusalKind.NOT_FOUND
    assert runtime.store.outbox == []


async def test_an_improvement_action_opens_then_completes_once() -> None:
    runtime, conn = FakeRuntime(), FakeConnection()
    plan = ImprovementPlan(cast(Any, runtime))
    db = cast(Any, conn)
    action_id = uuid4()
    with pytest.raises(Refused) as past:
        await plan.open(
            db,
            action_id=action_id,
            source="audit",
            source_id=None,
            site_id=SITE,
            owner_id="lead-1",
            description="Revoir l'accueil",
            due_at=T0 - timedelta(days=1),
        )
    assert (past.value.kind, past.value.code) == (RefusalKind.INVALID, "due_date_in_past")
    assert runtime.keys.sealed == []  # refused before a key is made
    opened = await plan.open(
        db,
        action_id=action_id,
        source="audit",
        source_id=None,
        site_id=SITE,
        owner_id="lead-1",
        description="Revoir l'accueil",
        due_at=T0 + timedelta(days=30),
    )
    assert opened.version == 1
    runtime.clock.advance(timedelta(days=40))
    assert opened.state is not None
    assert opened.state.overdue(runtime.clock.now())
    done = await plan.complete(db, action_id, 1, None)
    assert done.state is not None
    assert done.state.completed_at == runtime.clock.now()
    with pytest.raises(Refused) as again:
        await plan.complete(db, action_id, 2, None)
    assert again.value.code == "action_already_completed"
    assert await runtime.types(f"action-{action_id}") == ["ActionOpened", "ActionCompleted"]
    assert runtime.published() == ["ImprovementActionOpened", "ImprovementActionCompleted"]
