"""A relay in its own process, so that tests can kill it with SIGKILL mid-batch."""

from __future__ import annotations

import asyncio
import sys

from shared.db import create_pool
from shared.relay import OutboxRelay, kafka_producer_factory


async def main(dsn: str, bootstrap: str, batch_size: int) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=4)
    relay = OutboxRelay(
        service="test",
        dsn=dsn,
        pool=pool,
        producer_factory=kafka_producer_factory(bootstrap, "test-relay"),
        batch_size=batch_size,
        poll_interval_s=0.05,
    )
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
