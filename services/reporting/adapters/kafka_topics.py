"""The partitions of the projected topics, from the broker's description of them."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def topic_partitions(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics` (a topic that does not exist has none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bilan-reporting-describe")
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], p["partition"])
        for topic in described
        for p in sorted(topic.get("partitions") or [], key=lambda p: int(p["partition"]))
    ]
