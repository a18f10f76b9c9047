"""Improvement actions (Qualiopi ind. 32): opening, listing, one action, completing it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response

from services.survey.adapters import read_models
from services.survey.api.deps import (
    PROBLEM,
    STEP_ERRORS,
    NotFoundProblem,
    QualityLead,
    RunStep,
    Service,
    visible_record,
)
from services.survey.api.schemas import ActionIn, ActionOut, StepIn
from services.survey.domain import action as a
from services.survey.domain.complaint import past_due
from shared.web import OnGuardedAggregate, Problem, Tx, set_etag

router = APIRouter(prefix="/improvement-actions", tags=["improvement actions (ind. 32)"])


def action_out(
    state: a.ImprovementAction, version: int, now: datetime, description: str | None = None
) -> ActionOut:
    return ActionOut(
        action_id=state.action_id,
        source=state.source,
        source_id=state.source_id,
        site_id=state.site_id,
        owner_id=state.owner_id,
        due_at=state.due_at,
        opened_at=state.opened_at,
        completed_at=state.completed_at,
        overdue=state.overdue(now),
        version=version,
        description=description,
    )


def action_row_out(row: dict[str, Any], now: datetime) -> ActionOut:
    return ActionOut(
        **{k: v for k, v in row.items() if k in ActionOut.model_fields},
        overdue=past_due(row["completed_at"], row["due_at"], now),
    )


NOT_FOUND = NotFoundProblem("action_not_found", "no such improvement action")
ActionStep = RunStep[a.ImprovementAction, a.CompleteAction, ActionOut]


async def on_action(service: Service, context: OnGuardedAggregate) -> ActionStep:
    return RunStep(service.actions, action_out, NOT_FOUND, context, service.clock)


RunOnAction = Annotated[ActionStep, Depends(on_action)]
"""The dependency of a step of an existing action (transaction, If-Match, its answer)."""


@router.post(
    "",
    status_code=201,
    summary="Open an improvement action (quality lead)",
    responses={403: PROBLEM, 422: PROBLEM},
)
async def open_action(
    body: ActionIn, who: QualityLead, service: Service, conn: Tx, response: Response
) -> ActionOut:
    if body.site_id is None:
        if not who.all_sites:
            raise Problem(403, "forbidden", "organisation-wide actions need every site")
    else:
        who.require_site(body.site_id)
    action_id = uuid4()
    saved = await service.actions.open(
        conn,
        action_id=action_id,
        source=body.source,
        source_id=body.source_id,
        site_id=body.site_id,
        owner_id=body.owner_id,
        description=body.description,
        due_at=body.due_at,
    )
    assert saved.state is not None
    set_etag(response, saved.version)
    response.headers["Location"] = f"/improvement-actions/{action_id}"
    return action_out(saved.state, saved.version, service.clock.now())


@router.get("", summary="Improvement actions of the caller's sites")
async def actions(
    who: QualityLead,
    service: Service,
    conn: Tx,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ActionOut]:
    rows = await read_models.list_actions(
        conn, all_sites=who.all_sites, sites=list(who.sites), limit=limit
    )
    now = service.clock.now()
    return [action_row_out(r, now) for r in rows]


@router.get("/overdue", summary="Actions past their due date and not completed")
async def overdue(who: QualityLead, service: Service, conn: Tx) -> list[ActionOut]:
    now = service.clock.now()
    rows = await read_models.unfinished_actions(
        conn, all_sites=who.all_sites, sites=list(who.sites)
    )
    return [x for x in (action_row_out(r, now) for r in rows) if x.overdue]


@router.get("/{action_id}", summary="One action, with its description", responses={404: PROBLEM})
async def one(
    action_id: UUID, who: QualityLead, service: Service, conn: Tx, response: Response
) -> ActionOut:
    loaded = await visible_record(service.actions, conn, who, action_id, NOT_FOUND)
    assert loaded.state is not None
    set_etag(response, loaded.version)
    description = await service.actions.description(loaded.state)
    return action_out(loaded.state, loaded.version, service.clock.now(), description)


@router.post(
    "/{action_id}/completion",
    summary="Mark an action completed",
    responses=STEP_ERRORS,
)
async def complete(
    action_id: UUID,
    body: StepIn,
    who: QualityLead,
    run: RunOnAction,
) -> ActionOut:
    return await run(action_id, a.CompleteAction(body.at), who)
