"""Reporting serves its stored projection at once, without waiting for Kafka.

After a restart the API used to wait for the Faust group join (about 60 s, up to 139 s while
Kafka itself restarted) although the stored facts were already loaded. Here Kafka does not
answer at all: the figures are still served from the first request, readiness holds, and the
status says why it cannot tell the lag yet.
"""

from __future__ import annotations

import time
from typing import Any

from .conftest import auth, make_settings


async def test_the_stored_projection_is_served_while_kafka_is_away(
    db_dsn: str, start_reporting: Any
) -> None:
    settings = make_settings(db_dsn, "127.0.0.1:1")  # nothing listens there
    began = time.monotonic()
    async with start_reporting(settings) as running:
        client = running.client
        started_in = time.monotonic() - began
        figures = await client.get(
            "/v1/indicators",
            params={"from": "2025-01-01", "to": "2026-01-01"},
            headers=auth(["admin"]),
        )
        assert figures.status_code == 200, figures.text
        assert figures.json()["indicators"]["bilans_completed"]["value"] == 0
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["dependencies"]["kafka"].startswith("unavailable")
        status = await client.get("/v1/status", headers=auth(["admin"]))
        assert status.status_code == 503
        assert status.headers["retry-after"]
        assert running.service.worker_state == "joining"
    # Bounded by the status reader's 10 s connection attempt, not by a group join.
    assert started_in < 15
