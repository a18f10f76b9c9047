"""Complaints register (Qualiopi ind. 31): received, acknowledged, answered, closed.

Descriptions and responses are free text that may name people: they are sealed under a key of
the complaint itself and never published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.survey.adapters.read_models import project_complaint
from services.survey.application.contract import complaint_outbox
from services.survey.domain import complaint as c
from services.survey.settings import SurveySettings
from shared.aggregate import EventCodec
from shared.aggregate.repository import Loaded, Repository
from shared.db import Connection
from shared.runtime import ServiceRuntime

DESCRIPTION = "complaint.description"
COMPLAINT_CODEC = EventCodec[c.ComplaintEvent](
    [c.ComplaintReceived, c.ComplaintAcknowledged, c.ComplaintAnswered, c.ComplaintClosed]
)
RESPONSE = "complaint.response"


@dataclass(frozen=True, slots=True)
class AnswerInClear:
    """The answer given to the complainant, in clear: the register seals it before the domain
    sees it (`AnswerComplaint` carries it sealed)."""

    response: str
    answered_at: datetime | None


Step = c.AcknowledgeComplaint | AnswerInClear | c.CloseComplaint
"""A step of a registered complaint, as the routes give it."""


class ComplaintRegister:
    """Receives complaints and moves them through acknowledgement, answer and closure, each
    command in the caller's transaction (`conn`)."""

    def __init__(self, runtime: ServiceRuntime, settings: SurveySettings) -> None:
        self._runtime = runtime
        self.policy = c.ComplaintPolicy(
            settings.complaint_acknowledge_working_days, settings.complaint_answer_days
        )
        self.repository: Repository[c.Complaint, c.ComplaintEvent] = Repository(
            prefix="complaint",
            codec=COMPLAINT_CODEC,
            evolve=c.evolve,
            outbox=complaint_outbox,
            project=project_complaint,
            store=lambda: runtime.store,
        )

    async def receive(
        self,
        conn: Connection,
        *,
        complaint_id: UUID,
        site_id: UUID,
        dossier_id: UUID | None,
        complainant_role: c.ComplainantRole,
        category: c.Category,
        channel: c.Channel,
        description: str,
        received_at: datetime | None,
        recorded_by: str,
    ) -> Loaded[c.Complaint]:
        """Register a complaint; its deadlines follow the policy in force now."""
        sealed = await self._runtime.keys.encrypt(
            str(complaint_id), description, purpose=DESCRIPTION, conn=conn
        )
        command = c.ReceiveComplaint(
            complaint_id,
            site_id,
            dossier_id,
            complainant_role,
            category,
            channel,
            sealed.text,
            received_at,
            recorded_by,
            self.policy,
        )
        events = c.decide(None, command, self._runtime.clock.now())
        return await self.repository.append(complaint_id, Loaded(None, 0), events, conn=conn)

    async def load(self, conn: Connection, complaint_id: UUID) -> Loaded[c.Complaint]:
        return await self.repository.load(complaint_id, conn=conn)

    async def handle(
        self,
        conn: Connection,
        complaint_id: UUID,
        expected_version: int,
        command: Step,
    ) -> Loaded[c.Complaint]:
        """Acknowledge, answer or close, if the caller saw the current version."""
        if isinstance(command, AnswerInClear):
            return await self.answer(
                conn, complaint_id, expected_version, command.response, command.answered_at
            )
        loaded = await self.repository.load(
            complaint_id, conn=conn, expected_version=expected_version
        )
        events = c.decide(loaded.state, command, self._runtime.clock.now())
        return await self.repository.append(complaint_id, loaded, events, conn=conn)

    async def answer(
        self,
        conn: Connection,
        complaint_id: UUID,
        expected_version: int,
        response: str,
        answered_at: datetime | None,
    ) -> Loaded[c.Complaint]:
        """Record the answer given to the complainant (its text sealed)."""
        loaded = await self.repository.load(
            complaint_id, conn=conn, expected_version=expected_version
        )
        now = self._runtime.clock.now()
        # Check the state before sealing: a refused answer leaves no key behind.
        c.decide(loaded.state, c.AnswerComplaint("", answered_at), now)
        sealed = await self._runtime.keys.encrypt(
            str(complaint_id), response, purpose=RESPONSE, conn=conn
        )
        events = c.decide(loaded.state, c.AnswerComplaint(sealed.text, answered_at), now)
        return await self.repository.append(complaint_id, loaded, events, conn=conn)

    async def texts(self, state: c.Complaint) -> dict[str, str | None]:
        """Description and response in clear, for the staff who handle the complaint."""
        keys = self._runtime.keys
        description = await keys.decrypt(
            str(state.complaint_id), state.sealed_description, purpose=DESCRIPTION
        )
        response = (
            await keys.decrypt(str(state.complaint_id), state.sealed_response, purpose=RESPONSE)
            if state.sealed_response
            else None
        )
        return {
            "description": description if isinstance(description, str) else None,
            "response": response if isinstance(response, str) else None,
        }
