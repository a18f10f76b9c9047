"""Who leads a session: an active consultant or psychologist of the dossier's site; past the
information phase, the dossier's referent (Qualiopi ind. 18, 21), or for an assessment another
staff member qualified for it, with a reason (ind. 17)."""

from __future__ import annotations

from services.scheduling.domain.errors import conflict, invalid
from services.scheduling.domain.sessions.commands import ScheduleSession
from services.scheduling.domain.values import SESSION_LEADER_ROLES


def check_leader(command: ScheduleSession) -> None:
    staff = command.consultant
    dossier = command.dossier
    if staff is None or not staff.active:
        raise invalid("consultant_unknown", "the consultant is not an active staff member")
    if staff.roles.isdisjoint(SESSION_LEADER_ROLES):
        raise invalid("not_a_consultant", "only a consultant or a psychologist leads a session")
    if dossier.site_id not in staff.site_ids:
        raise invalid("consultant_other_site", "the consultant does not work at the dossier's site")
    if command.phase == "information":
        return
    if dossier.referent_id is None:
        raise conflict("no_referent", "the dossier has no referent consultant yet")
    if command.consultant_id == dossier.referent_id:
        return
    # Ind. 17: someone else may administer a test, if qualified for it, and with a reason.
    assessment = command.assessment
    if assessment is None:
        raise invalid(
            "not_the_referent",
            "only the dossier's referent leads its sessions; another staff member only for an "
            "assessment, with a reason",
            referent_id=str(dossier.referent_id),
        )
    if assessment.habilitation is not None:
        if assessment.habilitation not in staff.habilitations:
            raise invalid(
                "habilitation_missing",
                f"the staff member does not hold the habilitation {assessment.habilitation}",
            )
    elif not staff.habilitations:
        raise invalid("not_qualified", "the staff member holds no habilitation for assessments")
