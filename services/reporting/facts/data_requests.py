"""GDPR data-subject request facts (art. 12(3): answer within one month)."""

from __future__ import annotations

from typing import Any

from shared.contracts import (
    DataSubjectRequestFulfilled,
    DataSubjectRequestReceived,
    DataSubjectRequestRefused,
)

from .model import DataRequestFacts, earliest, least
from .state import Applier, FactStore, ts


def _request(store: FactStore, request_id: object) -> DataRequestFacts:
    return store.touch("data_request", str(request_id), DataRequestFacts)


def received(store: FactStore, _ce_id: str, e: DataSubjectRequestReceived) -> None:
    r = _request(store, e.request_id)
    r.received = least(r.received, [ts(e.received_at), ts(e.due_at)])


def fulfilled(store: FactStore, _ce_id: str, e: DataSubjectRequestFulfilled) -> None:
    r = _request(store, e.request_id)
    r.answered_at = earliest(r.answered_at, ts(e.fulfilled_at))


def refused(store: FactStore, _ce_id: str, e: DataSubjectRequestRefused) -> None:
    r = _request(store, e.request_id)
    r.answered_at = earliest(r.answered_at, ts(e.refused_at))


APPLIERS: dict[Any, Applier] = {
    DataSubjectRequestReceived: received,
    DataSubjectRequestFulfilled: fulfilled,
    DataSubjectRequestRefused: refused,
}
