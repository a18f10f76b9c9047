"""Fixtures of the survey service's integration tests: a real SMTP server and a publisher of
dossier-service events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.integration.smtp_server import SmtpServer
from tests.integration.survey.harness import Publisher


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[Publisher]:
    p = Publisher(kafka_bootstrap)
    await p.start()
    yield p
    await p.stop()
