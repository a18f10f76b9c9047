"""The Kafka topics of Bilan, in one place.

The local stack creates them explicitly (the broker never auto-creates topics); other
code imports ``TOPICS`` rather than repeating names, partition counts or settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Events are the system of record: the broker must never delete them, by age or by size.
UNLIMITED_RETENTION: Final = (("retention.ms", "-1"), ("retention.bytes", "-1"))


@dataclass(frozen=True)
class TopicSpec:
    """A topic as it must exist on the broker."""

    name: str
    partitions: int
    replication_factor: int = 1
    config: tuple[tuple[str, str], ...] = UNLIMITED_RETENTION

    def config_dict(self) -> dict[str, str]:
        """The topic-level settings, as the admin API wants them."""
        return dict(self.config)


EVENT_TOPICS: Final = (
    TopicSpec("bilan.dossier.events", partitions=6),
    TopicSpec("bilan.scheduling.events", partitions=6),
    TopicSpec("bilan.survey.events", partitions=6),
)
DEAD_LETTER_TOPICS: Final = (
    TopicSpec("bilan.dossier.events.dlq", partitions=6),
    TopicSpec("bilan.scheduling.events.dlq", partitions=6),
    TopicSpec("bilan.survey.events.dlq", partitions=6),
)
TOPICS: Final[tuple[TopicSpec, ...]] = EVENT_TOPICS + DEAD_LETTER_TOPICS
