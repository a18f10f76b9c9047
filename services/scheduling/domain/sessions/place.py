"""Where a session takes place: in person, in a room of the dossier's site that keeps the
exchange confidential (Qualiopi ind. 17); remote, in no room."""

from __future__ import annotations

from services.scheduling.domain.errors import invalid
from services.scheduling.domain.sessions.commands import ScheduleSession


def check_place(command: ScheduleSession) -> None:
    if command.modality == "remote":
        if command.room_id is not None:
            raise invalid("room_for_remote", "a remote session takes no room")
        return
    room = command.room
    if command.room_id is None:
        raise invalid("room_required", "an in-person session needs a room of the dossier's site")
    if room is None:
        raise invalid("room_unknown", "no such room")
    if room.site_id != command.dossier.site_id:
        raise invalid("room_other_site", "the room is not at the dossier's site")
    if not room.confidential:
        raise invalid(
            "room_not_confidential",
            "an in-person session needs a room that keeps the exchange confidential (ind. 17)",
        )
