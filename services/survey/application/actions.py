"""Improvement actions (Qualiopi ind. 32): opened from a source with an owner and a due date,
completed. The description is sealed under the action's own key: it may name people."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.survey.adapters.read_models import project_action
from services.survey.application.contract import action_outbox
from services.survey.domain import action as a
from shared.aggregate import EventCodec
from shared.aggregate.repository import Loaded, Repository
from shared.db import Connection
from shared.runtime import ServiceRuntime

ACTION_DESCRIPTION = "action.description"
ACTION_CODEC = EventCodec[a.ActionEvent]([a.ActionOpened, a.ActionCompleted])


class ImprovementPlan:
    """Opens and completes improvement actions, each in the caller's transaction (`conn`)."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self.repository: Repository[a.ImprovementAction, a.ActionEvent] = Repository(
            prefix="action",
            codec=ACTION_CODEC,
            evolve=a.evolve,
            outbox=action_outbox,
            project=project_action,
            store=lambda: runtime.store,
        )

    async def open(
        self,
        conn: Connection,
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
        return await self.repository.append(action_id, Loaded(None, 0), events, conn=conn)

    async def load(self, conn: Connection, action_id: UUID) -> Loaded[a.ImprovementAction]:
        return await self.repository.load(action_id, conn=conn)

    async def complete(
        self,
        conn: Connection,
        action_id: UUID,
        expected_version: int,
        completed_at: datetime | None,
    ) -> Loaded[a.ImprovementAction]:
        """Mark an action done, if the caller saw the current version."""
        return await self.handle(conn, action_id, expected_version, a.CompleteAction(completed_at))

    async def handle(
        self, conn: Connection, action_id: UUID, expected_version: int, command: a.CompleteAction
    ) -> Loaded[a.ImprovementAction]:
        """Run a step of an open action, if the caller saw the current version."""
        loaded = await self.repository.load(action_id, conn=conn, expected_version=expected_version)
        events = a.decide(loaded.state, command, self._runtime.clock.now())
        return await self.repository.append(action_id, loaded, events, conn=conn)

    async def description(self, state: a.ImprovementAction) -> str | None:
        text = await self._runtime.keys.decrypt(
            str(state.action_id), state.sealed_description, purpose=ACTION_DESCRIPTION
        )
        return text if isinstance(text, str) else None
