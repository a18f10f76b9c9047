"""Émargement: once a session is held, its beneficiary and its consultant each sign the
attendance once, dated between the session's start and now; only they may sign."""

from __future__ import annotations

from datetime import datetime

from services.scheduling.domain.errors import conflict, forbidden, invalid
from services.scheduling.domain.sessions.commands import SignAttendance
from services.scheduling.domain.sessions.events import AttendanceSigned
from services.scheduling.domain.sessions.state import Session


def sign(state: Session, command: SignAttendance, now: datetime) -> AttendanceSigned:
    # Who signs first: someone who may not learns nothing of the session's state.
    expected = (
        command.dossier.beneficiary_id
        if command.signer_role == "beneficiary"
        else state.consultant_id
    )
    if expected is None or command.signer_id != expected:
        raise forbidden(
            "not_the_signer", f"only the session's {command.signer_role} signs for that role"
        )
    if state.status != "held":
        raise conflict("session_not_held", "attendance is signed for a session that was held")
    if command.signer_role in state.signatures:
        raise conflict("already_signed", f"the {command.signer_role} has already signed")
    assert state.held_started_at is not None
    if command.signed_at < state.held_started_at or command.signed_at > now:
        raise invalid(
            "signature_time_invalid", "a signature is dated between the session's start and now"
        )
    return AttendanceSigned(signer_role=command.signer_role, signed_at=command.signed_at)
