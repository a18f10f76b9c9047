"""The runner of the complaint and action step routes (`api.deps.RunStep`), on the in-memory
event store: who may not see the record gets 404 whatever their `If-Match` says; who may gets
the step run at the version they read, its ETag and its answer. The answer step seals its text."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID, uuid4

import pytest
from fastapi import Response

from services.survey.api.complaints import NOT_FOUND, complaint_out
from services.survey.api.deps import RunStep
from services.survey.application.complaints import AnswerInClear, ComplaintRegister, Step
from services.survey.domain import complaint as c
from services.survey.settings import SurveySettings
from shared.auth import Principal, Role
from shared.web import GuardedCommandContext, Problem
from tests.unit.application_fakes import FakeConnection, FakeRuntime

SITE = uuid4()
LEAD = Principal("lead-1", frozenset({Role.QUALITY_LEAD}), frozenset({str(SITE)}))
STRANGER = Principal("lead-2", frozenset({Role.QUALITY_LEAD}), frozenset({str(uuid4())}))


async def _received(register: ComplaintRegister, conn: Any) -> UUID:
    saved = await register.receive(
        conn,
        complaint_id=uuid4(),
        site_id=SITE,
        dossier_id=None,
        complainant_role="funder",
        category="organisation",
        channel="email",
        description="Aucun rappel",
        received_at=None,
        recorded_by="staff-1",
    )
    assert saved.state is not None
    return saved.state.complaint_id


def _run(
    register: ComplaintRegister, runtime: FakeRuntime, conn: Any, if_match: str | None
) -> tuple[RunStep[c.Complaint, Step, Any], Response]:
    response = Response()
    context = GuardedCommandContext(conn, if_match, response)
    return RunStep(register, complaint_out, NOT_FOUND, context, cast(Any, runtime.clock)), response


async def test_a_caller_who_may_not_see_the_complaint_gets_404_before_any_version_check() -> None:
    runtime, conn = FakeRuntime(), cast(Any, FakeConnection())
    register = ComplaintRegister(cast(Any, runtime), SurveySettings())
    complaint_id = await _received(register, conn)
    run, _ = _run(register, runtime, conn, None)
    with pytest.raises(Problem) as unseen:
        await run(complaint_id, c.AcknowledgeComplaint(None), STRANGER)
    assert (unseen.value.status, unseen.value.code) == (404, "complaint_not_found")
    with pytest.raises(Problem) as no_version:
        await run(complaint_id, c.AcknowledgeComplaint(None), LEAD)
    assert no_version.value.status == 428
    assert await runtime.types(f"complaint-{complaint_id}") == ["ComplaintReceived"]


async def test_a_step_runs_at_the_version_read_and_answers_with_its_etag() -> None:
    runtime, conn = FakeRuntime(), cast(Any, FakeConnection())
    register = ComplaintRegister(cast(Any, runtime), SurveySettings())
    complaint_id = await _received(register, conn)
    acknowledge, acknowledged = _run(register, runtime, conn, '"1"')
    out = await acknowledge(complaint_id, c.AcknowledgeComplaint(None), LEAD)
    assert (out.status, out.version, acknowledged.headers["ETag"]) == ("acknowledged", 2, '"2"')
    answer, _ = _run(register, runtime, conn, '"2"')
    answered = await answer(complaint_id, AnswerInClear("Nous vous rappelons", None), LEAD)
    assert answered.status == "answered"
    stored = await runtime.stream(f"complaint-{complaint_id}")
    assert "Nous vous rappelons" not in str(stored[-1].data)  # sealed before it is stored
