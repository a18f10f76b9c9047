"""Who may see and change what: need-to-know per site and per session (architecture.md, 7)."""

from __future__ import annotations

from uuid import UUID

from services.scheduling.domain.errors import forbidden, not_found
from shared.auth import Principal, Role

MANAGERS = frozenset({Role.SITE_MANAGER, Role.ADMIN})
LEADERS = frozenset({Role.CONSULTANT, Role.PSYCHOLOGIST})
STAFF_READERS = frozenset({*MANAGERS, *LEADERS, Role.QUALITY_LEAD})


def principal_id(principal: Principal) -> UUID | None:
    try:
        return UUID(principal.subject)
    except ValueError:
        return None


def require_site_visible(principal: Principal, site_id: UUID, what: str = "resource") -> None:
    """Another site's data is answered as not found: its existence is not revealed."""
    if not principal.can_act_on_site(site_id):
        raise not_found(f"{what}_not_found", f"no such {what}")


def require_session_actor(
    principal: Principal, site_id: UUID, consultant_id: UUID, referent_id: UUID | None
) -> None:
    """A manager of the site, or the staff member leading the session, or the referent."""
    require_site_visible(principal, site_id, "session")
    if principal.has_any_role(MANAGERS):
        return
    me = principal_id(principal)
    if principal.has_any_role(LEADERS) and me is not None and me in (consultant_id, referent_id):
        return
    raise forbidden(
        "not_your_session", "only the session's consultant, the referent or a manager may"
    )
