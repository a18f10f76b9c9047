"""Which failures are the infrastructure's (retry until it is back) and which are a message's own.

A consumer that dead-letters an event because PostgreSQL restarted loses a valid fact for good;
one that retries forever on a bug never moves on. The line between the two is drawn here, once,
for every consumer (the services' idempotent consumer and the reporting projector) and for the
HTTP layer (a database outage answers 503 with `Retry-After`, not 500).
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

# SQLSTATE classes that say "the server or the connection", never "your data":
# 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown,
# cannot connect now), 58 system error; and 40001/40P01 (serialization, deadlock), which a
# retry of the same transaction resolves.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_TRANSIENT_SQLSTATES = ("40001", "40P01")


def is_transient(exc: BaseException) -> bool:
    """True when `exc` comes from an unreachable or restarting dependency, not from the input."""
    if isinstance(exc, asyncpg.PostgresError):
        state = getattr(exc, "sqlstate", None) or ""
        return state.startswith(_TRANSIENT_SQLSTATE_CLASSES) or state in _TRANSIENT_SQLSTATES
    if isinstance(exc, asyncpg.InterfaceError):
        # "connection is closed", "another operation is in progress" after a reset, pool
        # closing: the connection, not the statement.
        return True
    if isinstance(exc, OSError | asyncio.TimeoutError | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
        return True
    if isinstance(exc, KafkaError):
        # aiokafka marks the errors a retry can cure (leader moving, coordinator loading).
        return bool(getattr(exc, "retriable", False))
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in (502, 503, 504)
    # Anything else (a KeyError in a handler, a check constraint, a decoding error) is the
    # message's own: retrying it gives the same answer.
    return False


def backoff_s(attempt: int, *, base_s: float = 0.1, cap_s: float = 5.0) -> float:
    """Exponential back-off for the `attempt`-th retry (0-based), capped."""
    return float(min(base_s * 2 ** min(attempt, 30), cap_s))
