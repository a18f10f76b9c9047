"""Staff and site facts (Qualiopi indicators 17, 18, 21, 22, 26)."""

from __future__ import annotations

from typing import Any

from shared.contracts import (
    CompetenceEvaluated,
    ContinuousTrainingCompleted,
    SiteOpened,
    StaffMemberLeft,
    StaffMemberOnboarded,
)

from .model import SiteFacts, StaffFacts, earliest, least
from .state import Applier, FactStore, ts


def _staff(store: FactStore, staff_id: object) -> StaffFacts:
    return store.touch("staff", str(staff_id), StaffFacts)


def onboarded(store: FactStore, _ce_id: str, e: StaffMemberOnboarded) -> None:
    s = _staff(store, e.staff_id)
    record = [ts(e.onboarded_at), sorted(e.roles), sorted(str(site) for site in e.site_ids)]
    s.onboarded = least(s.onboarded, record)
    s.contract = least(s.contract, [ts(e.onboarded_at), e.contract])


def left(store: FactStore, _ce_id: str, e: StaffMemberLeft) -> None:
    s = _staff(store, e.staff_id)
    s.left_at = earliest(s.left_at, ts(e.left_at))


def trained(store: FactStore, ce_id: str, e: ContinuousTrainingCompleted) -> None:
    _staff(store, e.staff_id).trainings[ce_id] = [ts(e.completed_at), e.hours]


def evaluated(store: FactStore, ce_id: str, e: CompetenceEvaluated) -> None:
    _staff(store, e.staff_id).evaluations[ce_id] = ts(e.evaluated_at)


def site_opened(store: FactStore, _ce_id: str, e: SiteOpened) -> None:
    site = store.touch("site", str(e.site_id), SiteFacts)
    site.opened = least(site.opened, [ts(e.opened_at), e.name, e.region])


APPLIERS: dict[Any, Applier] = {
    StaffMemberOnboarded: onboarded,
    StaffMemberLeft: left,
    ContinuousTrainingCompleted: trained,
    CompetenceEvaluated: evaluated,
    SiteOpened: site_opened,
}
