"""The running system for end-to-end tests: started if it is not, stopped at the end if this
session started it (only the services: the Kafka and PostgreSQL stack is left as found)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from deploy import system
from deploy.client import CLOCKED, BilanClient


# Package scope: a system this package started is stopped as soon as its tests are done,
# not left consuming every other test's events until the end of the session.
@pytest.fixture(scope="package")
def running_system() -> Iterator[BilanClient]:
    """A client of the whole system on 127.0.0.1:8001-8004, ready to take commands."""
    client = BilanClient()
    started = False
    # Whatever runs on the ports is used (this checkout's supervisor or another's).
    if not client.ready([*CLOCKED, "reporting"]):
        if os.environ.get("BILAN_E2E_REQUIRE_RUNNING"):
            # `bilan containers test`: the journey must run against its containers, never
            # against native services started here in their place.
            client.close()
            pytest.fail("BILAN_E2E_REQUIRE_RUNNING is set but the services do not answer")
        system.up()  # shares the running stack; waits until every service is ready
        started = True
    try:
        yield client
    finally:
        client.close()
        if started:
            system.stop_processes()


@pytest.fixture
def bilan(running_system: BilanClient) -> BilanClient:
    return running_system
