"""Faust's Kafka transport, fetching in batches.

Faust builds its aiokafka consumer with `fetch_min_bytes=1` and no setting to change it: under
a steady trickle of events the broker answers each fetch with one or two records, and the
consumer thread spent about half of the worker's CPU building, sending and parsing fetch
requests (bench/README.md). Like the services' consumers (`shared.consumer`), this one asks
the broker to hold a fetch until 64 KiB are ready or the batch window has passed, so a
record waits at most that window, which the projector's batching waits anyway.
"""

from __future__ import annotations

from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_kafka

FETCH_MIN_BYTES = 64 * 1024


class _BatchedFetchThread(faust_kafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads these when the consumer starts (its fetcher is built in start()).
        # tests/integration/reporting checks that the running fetcher got them.
        consumer._fetch_min_bytes = FETCH_MIN_BYTES
        consumer._fetch_max_wait_ms = transport.fetch_max_wait_ms
        return consumer


class _BatchedFetchConsumer(faust_kafka.Consumer):
    def _new_consumer_thread(self) -> faust_kafka.AIOKafkaConsumerThread:
        return _BatchedFetchThread(self, loop=self.loop, beacon=self.beacon)


class BatchedFetchTransport(faust_kafka.Transport):
    """The aiokafka transport whose consumer fetches in batches of `fetch_max_wait_ms`."""

    Consumer = _BatchedFetchConsumer

    def __init__(self, *args: Any, fetch_max_wait_ms: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetch_max_wait_ms = fetch_max_wait_ms
