"""Complaints register (Qualiopi ind. 31): received, acknowledged, answered, closed.

Descriptions and responses are free text that may name people: they are sealed under a key of
the complaint itself and never published.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.survey.adapters.codec import EventCodec
from services.survey.adapters.read_models import project_complaint
from services.survey.adapters.repository import Loaded, Repository
from services.survey.application.contract import complaint_outbox
from services.survey.domain import complaint as c
from services.survey.settings import SurveySettings
from shared.db import Connection
from shared.eventstore import ConcurrencyError
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work

DESCRIPTION = "complaint.description"
RESPONSE = "complaint.response"


class ComplaintRegister:
    """Receives complaints and moves them through acknowledgement, answer and closure."""

    def __init__(self, runtime: ServiceRuntime, settings: SurveySettings) -> None:
        self._runtime = runtime
        self.policy = c.ComplaintPolicy(
            settings.complaint_acknowledge_working_days, settings.complaint_answer_days
        )
        self.repository: Repository[c.Complaint, c.ComplaintEvent] = Repository(
            prefix="complaint",
            codec=EventCodec[c.ComplaintEvent](
                c.ComplaintReceived, c.ComplaintAcknowledged, c.ComplaintAnswered, c.ComplaintClosed
            ),
            evolve=c.evolve,
            outbox=complaint_outbox,
            project=project_complaint,
            store=lambda: runtime.store,
        )

    async def receive(
        self,
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
        async with unit_of_work(self._runtime.pool) as conn:
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
            return await self.repository.save(conn, complaint_id, Loaded(None, 0), events)

    async def load(self, complaint_id: UUID) -> Loaded[c.Complaint]:
        async with self._runtime.pool.acquire() as conn:
            return await self.repository.load(conn, complaint_id)

    async def handle(
        self,
        complaint_id: UUID,
        expected_version: int,
        command: c.AcknowledgeComplaint | c.CloseComplaint,
    ) -> Loaded[c.Complaint]:
        """Acknowledge or close, if the caller saw the current version."""
        async with unit_of_work(self._runtime.pool) as conn:
            loaded = await self._at_version(conn, complaint_id, expected_version)
            events = c.decide(loaded.state, command, self._runtime.clock.now())
            return await self.repository.save(conn, complaint_id, loaded, events)

    async def answer(
        self,
        complaint_id: UUID,
        expected_version: int,
        response: str,
        answered_at: datetime | None,
    ) -> Loaded[c.Complaint]:
        """Record the answer given to the complainant (its text sealed)."""
        async with unit_of_work(self._runtime.pool) as conn:
            loaded = await self._at_version(conn, complaint_id, expected_version)
            now = self._runtime.clock.now()
            # Check the state before sealing: a refused answer leaves no key behind.
            c.decide(loaded.state, c.AnswerComplaint("", answered_at), now)
            sealed = await self._runtime.keys.encrypt(
                str(complaint_id), response, purpose=RESPONSE, conn=conn
            )
            events = c.decide(loaded.state, c.AnswerComplaint(sealed.text, answered_at), now)
            return await self.repository.save(conn, complaint_id, loaded, events)

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

    async def _at_version(
        self, conn: Connection, complaint_id: UUID, expected_version: int
    ) -> Loaded[c.Complaint]:
        loaded = await self.repository.load(conn, complaint_id)
        if loaded.state is not None and loaded.version != expected_version:
            raise ConcurrencyError(self.repository.stream_id(complaint_id), expected_version)
        return loaded
