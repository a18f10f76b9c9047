"""Fixtures of the fault tier: private servers to break, and the reporting helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.reporting.conftest import producer, start_reporting  # noqa: F401

from .instances import PrivateKafka, PrivatePostgres


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/faults/" in str(item.path):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL of the test's own, which it may crash and restart."""
    server = PrivatePostgres()
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def private_kafka() -> Iterator[PrivateKafka]:
    """A Kafka broker of the test's own, which it may kill and restart (from a test,
    `await asyncio.to_thread(broker.start)`: it polls the broker in an event loop of its own)."""
    broker = PrivateKafka()
    broker.start()
    try:
        yield broker
    finally:
        broker.remove()
