"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for tests."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.client_names: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.original_content))
        self.client_names.append(session.host_name)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpServer:
    """Start/stop an aiosmtpd server; `messages` holds what arrived."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._inbox = _Inbox()
        # A fixed greeting name: aiosmtpd would otherwise look up this host's name per session.
        self._controller = Controller(
            self._inbox, hostname="127.0.0.1", port=self.port, server_hostname="smtp.test"
        )

    @property
    def messages(self) -> list[Message]:
        return self._inbox.messages

    @property
    def client_names(self) -> list[str]:
        """The name each message's client gave in EHLO/HELO."""
        return self._inbox.client_names

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
