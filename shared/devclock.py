"""The development clock's HTTP endpoints: read it, move it forward (admin only).

Mounted only when `dev_clock_enabled` is set, which settings refuse outside development.

Moving the clock is a discrete-event simulation, not a jump: the clock stops at the due time of
each piece of work that falls inside the move (a durable timer, a queued mail), in order, and
that work runs there, seeing exactly its own due time; then the clock goes on to the next one,
and finally to the end of the move. A jump would fire everything at the end instead: documents
destroyed after their deadline, reminders expired before they were sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shared.auth import Principal, Role, require_roles
from shared.clock import OffsetClock
from shared.contracts.base import UtcDatetime
from shared.logging import get_logger
from shared.web import Problem

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
MAX_STEPS = 100_000
"""A bound on the stops of one move, should some work never stop falling due."""
log = get_logger(__name__)


class DueWork(Protocol):
    """Something of a service that falls due at moments of its clock (timers, mails)."""

    async def next_due(self, until: datetime) -> datetime | None:
        """The earliest moment at or before `until` when something is due, or None."""
        ...

    async def run_due(self) -> int:
        """Do what is due now; returns how much was done."""
        ...


class ClockReading(BaseModel):
    """What time the service thinks it is."""

    now: UtcDatetime
    offset_seconds: float
    stops: int = Field(0, description="How many due times the clock stopped at on the way.")


class NextDue(BaseModel):
    next_due: UtcDatetime | None = Field(
        description="The earliest due work at or before `until`, or null when there is none."
    )


class Advance(BaseModel):
    """How far to move the clock forward."""

    seconds: float = Field(gt=0, le=400 * 86_400, examples=[86_400])


async def next_due(work: Sequence[DueWork], until: datetime) -> datetime | None:
    found = [moment for w in work if (moment := await w.next_due(until)) is not None]
    return min(found, default=None)


async def advance_through(clock: OffsetClock, delta: timedelta, work: Sequence[DueWork]) -> int:
    """Move `clock` forward by `delta`, stopping at each due time inside; returns the stops."""
    target = clock.now() + delta
    stops = 0
    previous: datetime | None = None
    try:
        while stops < MAX_STEPS:
            moment = await next_due(work, target)
            if moment is None:
                break
            moment = max(moment, clock.now())
            clock.hold(moment)
            done = 0
            for w in work:
                done += await w.run_due()
            stops += 1
            if done == 0 and moment == previous:
                # Due but not doable here (another replica holds it): leave it to its loop.
                log.warning("dev_clock_work_not_done", at=moment.isoformat())
                break
            previous = moment
        clock.hold(max(target, clock.now()))
    finally:
        clock.release()
    return stops


def dev_clock_router(
    clock: OffsetClock, work: Callable[[], Sequence[DueWork]] = lambda: ()
) -> APIRouter:
    """The endpoints; `work` gives what falls due in this service (known once it started)."""
    router = APIRouter(prefix="/dev/clock", tags=["development clock"])

    @router.get("", summary="Read the development clock")
    async def read(_admin: Admin) -> ClockReading:
        return ClockReading(now=clock.now(), offset_seconds=clock.offset.total_seconds())

    @router.get("/next-due", summary="The earliest work due up to a moment")
    async def next_work(
        _admin: Admin, until: Annotated[datetime, Query(description="RFC 3339 with a zone.")]
    ) -> NextDue:
        if until.tzinfo is None:
            raise Problem(422, "invalid_time", "`until` must carry a timezone")
        return NextDue(next_due=await next_due(work(), until))

    @router.post("/advance", summary="Move the development clock forward, through each due time")
    async def advance(body: Advance, _admin: Admin) -> ClockReading:
        stops = await advance_through(clock, timedelta(seconds=body.seconds), work())
        return ClockReading(
            now=clock.now(), offset_seconds=clock.offset.total_seconds(), stops=stops
        )

    return router
