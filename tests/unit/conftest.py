"""Unit tests need no stack: `bilan test --unit` runs them without starting PostgreSQL or Kafka.

A unit test that reaches for either fails here at once, wherever it runs, instead of passing
only on machines where the stack happens to be up."""

from __future__ import annotations

import socket
from typing import Any

import pytest

STACK_PORTS = {5432: "PostgreSQL", 9092: "Kafka"}


@pytest.fixture(autouse=True)
def _no_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(address: Any) -> None:
        if isinstance(address, tuple) and len(address) >= 2 and address[1] in STACK_PORTS:
            raise AssertionError(
                f"a unit test connected to {STACK_PORTS[address[1]]} ({address[0]}:"
                f"{address[1]}): it belongs in tests/integration"
            )

    def guarded_connect(self: socket.socket, address: Any) -> None:
        refuse(address)
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        refuse(address)
        return connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
