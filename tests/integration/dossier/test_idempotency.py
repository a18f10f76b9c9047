"""`Idempotency-Key` on `POST /dossiers`: a retry after a lost answer opens no second dossier."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from tests.integration.dossier.harness import IDENTITY, Harness


def _body(h: Harness, **extra: Any) -> dict[str, Any]:
    return {
        "site_id": h.site,
        "funding_route": "employer_plan",
        "enquiry_received_at": (h.clock.now() - timedelta(days=1)).isoformat(),
        **IDENTITY,
        **extra,
    }


async def _count(h: Harness) -> int:
    listed = await h.client.get("/dossiers", headers=h.as_manager())
    assert listed.status_code == 200, listed.text
    return len(listed.json())


async def test_a_retried_creation_returns_the_first_outcome(harness: Harness) -> None:
    h = harness
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await h.client.post("/dossiers", json=_body(h), headers={**h.as_manager(), **key})
    assert first.status_code == 201, first.text
    # The answer was lost on the way: the client retries with the same key.
    again = await h.client.post("/dossiers", json=_body(h), headers={**h.as_manager(), **key})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    for name in ("etag", "location", "x-beneficiary-id"):
        assert again.headers[name] == first.headers[name]
    assert "idempotent-replayed" not in first.headers
    assert await _count(h) == 1

    # The same key for another request is a client error, and changes nothing.
    other = await h.client.post(
        "/dossiers", json=_body(h, funding_route="cpf"), headers={**h.as_manager(), **key}
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert await _count(h) == 1

    # Keys are the caller's own: another manager's identical key is another request.
    colleague = h.auth("site_manager", str(uuid.uuid4()))
    theirs = await h.client.post("/dossiers", json=_body(h), headers={**colleague, **key})
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]
    assert await _count(h) == 2


async def test_concurrent_duplicates_create_one_dossier(harness: Harness) -> None:
    h = harness
    headers = {**h.as_manager(), "Idempotency-Key": "retry-storm-1"}
    answers = await asyncio.gather(
        *(h.client.post("/dossiers", json=_body(h), headers=headers) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await _count(h) == 1


async def test_a_refused_request_is_not_remembered(harness: Harness) -> None:
    h = harness
    headers = {**h.as_manager(), "Idempotency-Key": "fix-and-retry"}
    refused = await h.client.post("/dossiers", json={**_body(h), "name": None}, headers=headers)
    assert refused.status_code == 422
    # Nothing was created, so the corrected request may reuse the key... but it is a
    # different body: the key was not stored with the refusal, so it is free.
    fixed = await h.client.post("/dossiers", json=_body(h), headers=headers)
    assert fixed.status_code == 201, fixed.text
    assert await _count(h) == 1


async def test_without_a_key_each_request_creates(harness: Harness) -> None:
    h = harness
    for _ in range(2):
        created = await h.client.post("/dossiers", json=_body(h), headers=h.as_manager())
        assert created.status_code == 201
    assert await _count(h) == 2
