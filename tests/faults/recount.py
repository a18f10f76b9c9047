"""An independent recount of what the topics hold, to hold the reporting figures against.

It reads every record of the topics with a group-less consumer and counts, with nothing of
the reporting service's code: distinct events (by `ce_id`), copies of an event already seen
(duplicates), events whose sequence goes back within their subject (out of order), and per
site the dossiers opened and completed in a period. The fault tests and the fault matrix
(`bench/faults.py`) compare the served figures with it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.contracts import DossierCompleted, DossierOpened
from shared.envelope import EnvelopeError, decode


@dataclass
class Recount:
    events: int = 0
    duplicates: int = 0
    """Copies of an event already seen (same `ce_id`): a relay resend, dropped by consumers."""
    applied_twice: int = 0
    """A dossier opened or completed twice under different ids: a command applied twice."""
    out_of_order: int = 0
    undecodable: int = 0
    opened: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    completed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Site -> dossier ids (completion times are checked against the period when counting)."""
    completed_at: dict[str, datetime] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)

    def completed_in(self, site: str, start: datetime, end: datetime) -> int:
        return sum(1 for d in self.completed[site] if start <= self.completed_at[d] < end)


async def read_all(bootstrap: str, topics: list[str], timeout_s: float = 120.0) -> list[object]:
    """Every record of `topics`, from the beginning to the end offsets taken first."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(
                consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
            )
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[object] = []
        async with asyncio.timeout(timeout_s):
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, part in batch.items():
                    records.extend(r for r in part if r.offset < ends[tp])
        return records
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the metadata of a topic never read yet
    return consumer.partitions_for_topic(topic) or set()


def recount(records: list[object], *, site: str | None = None) -> Recount:
    """What `records` hold (only the events of `site`, when given)."""
    result = Recount()
    last_sequence: dict[str, int] = {}
    for record in records:
        try:
            envelope = decode(record.key, record.value, list(record.headers or ()))  # type: ignore[attr-defined]
        except EnvelopeError:
            result.undecodable += 1
            continue
        if site is not None and envelope.site_id != site:
            continue
        event_id = str(envelope.id)
        if event_id in result.ids:
            result.duplicates += 1
            continue
        result.ids.add(event_id)
        result.events += 1
        subject = f"{envelope.source}/{envelope.subject}"
        if envelope.sequence < last_sequence.get(subject, 0):
            result.out_of_order += 1
        last_sequence[subject] = max(envelope.sequence, last_sequence.get(subject, 0))
        data = envelope.data
        if isinstance(data, DossierOpened):
            dossier = str(data.dossier_id)
            result.applied_twice += dossier in result.opened[envelope.site_id]
            result.opened[envelope.site_id].add(dossier)
        elif isinstance(data, DossierCompleted):
            dossier = str(data.dossier_id)
            result.applied_twice += dossier in result.completed[envelope.site_id]
            result.completed[envelope.site_id].add(dossier)
            result.completed_at[dossier] = data.completed_at
    return result
