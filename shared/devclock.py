"""The development clock's HTTP endpoints: read it, move it forward (admin only).

Mounted only when `dev_clock_enabled` is set, which settings refuse outside development.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shared.auth import Principal, Role, require_roles
from shared.clock import OffsetClock
from shared.contracts.base import UtcDatetime

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


class ClockReading(BaseModel):
    """What time the service thinks it is."""

    now: UtcDatetime
    offset_seconds: float


class Advance(BaseModel):
    """How far to move the clock forward."""

    seconds: float = Field(gt=0, le=400 * 86_400, examples=[86_400])


def dev_clock_router(clock: OffsetClock) -> APIRouter:
    router = APIRouter(prefix="/dev/clock", tags=["development clock"])

    @router.get("", summary="Read the development clock")
    async def read(_admin: Admin) -> ClockReading:
        return ClockReading(now=clock.now(), offset_seconds=clock.offset.total_seconds())

    @router.post("/advance", summary="Move the development clock forward")
    async def advance(body: Advance, _admin: Admin) -> ClockReading:
        clock.advance(timedelta(seconds=body.seconds))
        return ClockReading(now=clock.now(), offset_seconds=clock.offset.total_seconds())

    return router
