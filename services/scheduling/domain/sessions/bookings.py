"""Never two sessions at once for one consultant or one room: a slot overlapping another live
session of either is refused, naming that session."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from services.scheduling.domain.errors import conflict
from services.scheduling.domain.sessions.commands import Booking
from services.scheduling.domain.values import overlaps


def check_bookings(
    bookings: tuple[Booking, ...],
    consultant_id: UUID,
    room_id: UUID | None,
    starts_at: datetime,
    minutes: int,
    *,
    exclude: UUID,
) -> None:
    for booking in bookings:
        if booking.session_id == exclude:
            continue
        if not overlaps(starts_at, minutes, booking.starts_at, booking.minutes):
            continue
        until = booking.starts_at + timedelta(minutes=booking.minutes)
        if booking.consultant_id == consultant_id:
            raise conflict(
                "consultant_double_booked",
                f"the consultant already has session {booking.session_id} from "
                f"{booking.starts_at.isoformat()} to {until.isoformat()}",
                conflicting_session_id=str(booking.session_id),
            )
        if room_id is not None and booking.room_id == room_id:
            raise conflict(
                "room_double_booked",
                f"the room is taken by session {booking.session_id} from "
                f"{booking.starts_at.isoformat()} to {until.isoformat()}",
                conflicting_session_id=str(booking.session_id),
            )
