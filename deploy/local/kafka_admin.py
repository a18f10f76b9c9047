"""Talk to the local broker through aiokafka's admin client (the CLI runs inside .venv).

A JVM per admin command would cost seconds; these calls take milliseconds, which keeps a
second ``bilan stack up`` fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from deploy.local.procs import StackError
from deploy.local.topics import TopicSpec

T = TypeVar("T")

# Kafka protocol error codes met here.
_UNKNOWN_TOPIC = 3
_TOPIC_ALREADY_EXISTS = 36


@contextlib.contextmanager
def _quiet_aiokafka() -> Iterator[None]:
    """Hide aiokafka's connection warnings while we poll a broker that is still starting."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _with_admin(bootstrap: str, timeout: float, action: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``action(admin)`` against ``bootstrap`` in a private event loop.

    Connection failures and timeouts become a StackError naming the broker.
    """

    async def main() -> T:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000)
        )
        try:
            await admin.start()
            return await action(admin)
        finally:
            await admin.close()

    async def bounded() -> T:
        return await asyncio.wait_for(main(), timeout)

    try:
        with _quiet_aiokafka():
            return asyncio.run(bounded())
    except (TimeoutError, KafkaError, OSError) as error:
        reason = str(error) or type(error).__name__
        raise StackError(f"kafka: the broker at {bootstrap} did not answer: {reason}") from error


def serves_metadata(bootstrap: str, timeout: float = 5.0) -> bool:
    """Whether the broker answers a metadata request and knows an active controller."""

    async def check(admin: Any) -> bool:
        cluster: dict[str, Any] = await admin.describe_cluster()
        return bool(cluster["brokers"]) and cluster["controller_id"] >= 0

    try:
        return _with_admin(bootstrap, timeout, check)
    except StackError:
        return False


def partition_counts(bootstrap: str, names: Sequence[str]) -> dict[str, int | None]:
    """How many partitions each topic has, None for a topic that does not exist."""

    async def describe(admin: Any) -> dict[str, int | None]:
        described: list[dict[str, Any]] = await admin.describe_topics(list(names))
        counts: dict[str, int | None] = dict.fromkeys(names)
        for topic in described:
            if topic["error_code"] == 0:
                counts[topic["topic"]] = len(topic["partitions"])
            elif topic["error_code"] != _UNKNOWN_TOPIC:
                raise StackError(f"describing topic {topic['topic']}: error {topic['error_code']}")
        return counts

    return _with_admin(bootstrap, 15.0, describe)


def create_missing(bootstrap: str, specs: Sequence[TopicSpec]) -> list[str]:
    """Create the topics of ``specs`` that do not exist yet; return the names created."""
    existing = partition_counts(bootstrap, [spec.name for spec in specs])
    missing = [spec for spec in specs if existing[spec.name] is None]
    if not missing:
        return []

    async def create(admin: Any) -> list[str]:
        response = await admin.create_topics(
            [
                NewTopic(
                    spec.name,
                    spec.partitions,
                    spec.replication_factor,
                    topic_configs=spec.config_dict(),
                )
                for spec in missing
            ]
        )
        created: list[str] = []
        for name, code, message in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                raise StackError(f"creating topic {name}: error {code}: {message}")
        return created

    return _with_admin(bootstrap, 30.0, create)
