"""The dossier service over HTTP on a fresh database, the real Kafka and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.dossier.harness import Harness
from tests.integration.harness import DOSSIER, ServiceHarness


@pytest.fixture
async def harness(db_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Harness]:
    async with ServiceHarness(DOSSIER, db_dsn, kafka_bootstrap).running() as running:
        yield Harness.of(running, kafka_bootstrap)
