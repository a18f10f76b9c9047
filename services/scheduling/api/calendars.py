"""Calendar feeds: the secret address of a staff member's calendar, and the feed."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.scheduling.api import schemas as b
from services.scheduling.api.deps import (
    Service,
    StaffReader,
)

router = APIRouter(tags=["calendars"])


@router.post(
    "/staff/{staff_id}/calendar-feed",
    response_model=b.FeedOut,
    summary="Create or rotate the secret address of a staff member's calendar",
)
async def rotate(staff_id: UUID, who: StaffReader, svc: Service) -> b.FeedOut:
    secret = await svc.calendars.rotate_feed_secret(who, staff_id)
    return b.FeedOut(url=f"/calendars/{secret}.ics")


@router.get(
    "/calendars/{secret}.ics",
    response_class=Response,
    summary="iCalendar feed (RFC 5545), read with the secret in its address",
    responses={200: {"content": {"text/calendar": {}}}},
)
async def feed(secret: str, svc: Service) -> Response:
    return Response(await svc.calendars.feed(secret), media_type="text/calendar; charset=utf-8")
