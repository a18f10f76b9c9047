"""Complaint and improvement-action facts (Qualiopi indicators 31 and 32)."""

from __future__ import annotations

from typing import Any

from shared.contracts import (
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintClosed,
    ComplaintReceived,
    ImprovementActionCompleted,
    ImprovementActionOpened,
)

from .model import ActionFacts, ComplaintFacts, earliest, least
from .state import Applier, FactStore, ts


def _complaint(store: FactStore, complaint_id: object) -> ComplaintFacts:
    return store.touch("complaint", str(complaint_id), ComplaintFacts)


def received(store: FactStore, _ce_id: str, e: ComplaintReceived) -> None:
    c = _complaint(store, e.complaint_id)
    c.received = least(c.received, [ts(e.received_at), str(e.site_id)])


def acknowledged(store: FactStore, _ce_id: str, e: ComplaintAcknowledged) -> None:
    c = _complaint(store, e.complaint_id)
    c.acknowledged_at = earliest(c.acknowledged_at, ts(e.acknowledged_at))


def answered(store: FactStore, _ce_id: str, e: ComplaintAnswered) -> None:
    c = _complaint(store, e.complaint_id)
    c.answered_at = earliest(c.answered_at, ts(e.answered_at))


def closed(store: FactStore, _ce_id: str, e: ComplaintClosed) -> None:
    c = _complaint(store, e.complaint_id)
    c.closed_at = earliest(c.closed_at, ts(e.closed_at))


def action_opened(store: FactStore, _ce_id: str, e: ImprovementActionOpened) -> None:
    a = store.touch("action", str(e.action_id), ActionFacts)
    a.opened = least(a.opened, [ts(e.opened_at), ts(e.due_at), str(e.site_id or "")])


def action_completed(store: FactStore, _ce_id: str, e: ImprovementActionCompleted) -> None:
    a = store.touch("action", str(e.action_id), ActionFacts)
    a.completed_at = earliest(a.completed_at, ts(e.completed_at))


APPLIERS: dict[Any, Applier] = {
    ComplaintReceived: received,
    ComplaintAcknowledged: acknowledged,
    ComplaintAnswered: answered,
    ComplaintClosed: closed,
    ImprovementActionOpened: action_opened,
    ImprovementActionCompleted: action_completed,
}
