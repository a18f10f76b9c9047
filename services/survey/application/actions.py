"""Improvement actions (Qualiopi ind. 32): opened from a source with an owner and a due date,
completed. The description is sealed under the action's own key: it may name people."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.survey.adapters.codec import EventCodec
from services.survey.adapters.read_models import project_action
from services.survey.adapters.repository import Loaded, Repository
from services.survey.application.contract import action_outbox
from services.survey.domain import action as a
from shared.eventstore import ConcurrencyError
from shared.runtime import ServiceRuntime
from shared.unit_of_work import unit_of_work

ACTION_DESCRIPTION = "action.description"


class ImprovementPlan:
    """Opens and completes improvement actions."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self.repository: Repository[a.ImprovementAction, a.ActionEvent] = Repository(
            prefix="action",
            codec=EventCodec[a.ActionEvent](a.ActionOpened, a.ActionCompleted),
            evolve=a.evolve,
            outbox=action_outbox,
            project=project_action,
            store=lambda: runtime.store,
        )

    async def open(
        self,
        *,
        action_id: UUID,
        source: a.Source,
        source_id: UUID | None,
        site_id: UUID | None,
        owner_id: str,
        description: str,
        due_at: datetime,
    ) -> Loaded[a.ImprovementAction]:
        """Open an action with its owner and due date."""
        async with unit_of_work(self._runtime.pool) as conn:
            now = self._runtime.clock.now()
            command = a.OpenAction(action_id, source, source_id, site_id, owner_id, "", due_at)
            a.decide(None, command, now)  # refuse before creating a key
            sealed = await self._runtime.keys.encrypt(
                str(action_id), description, purpose=ACTION_DESCRIPTION, conn=conn
            )
            events = a.decide(
                None,
                a.OpenAction(action_id, source, source_id, site_id, owner_id, sealed.text, due_at),
                now,
            )
            return await self.repository.save(conn, action_id, Loaded(None, 0), events)

    async def load(self, action_id: UUID) -> Loaded[a.ImprovementAction]:
        async with self._runtime.pool.acquire() as conn:
            return await self.repository.load(conn, action_id)

    async def complete(
        self, action_id: UUID, expected_version: int, completed_at: datetime | None
    ) -> Loaded[a.ImprovementAction]:
        """Mark an action done, if the caller saw the current version."""
        async with unit_of_work(self._runtime.pool) as conn:
            loaded = await self.repository.load(conn, action_id)
            if loaded.state is not None and loaded.version != expected_version:
                raise ConcurrencyError(self.repository.stream_id(action_id), expected_version)
            events = a.decide(
                loaded.state, a.CompleteAction(completed_at), self._runtime.clock.now()
            )
            return await self.repository.save(conn, action_id, loaded, events)

    async def description(self, state: a.ImprovementAction) -> str | None:
        text = await self._runtime.keys.decrypt(
            str(state.action_id), state.sealed_description, purpose=ACTION_DESCRIPTION
        )
        return text if isinstance(text, str) else None
