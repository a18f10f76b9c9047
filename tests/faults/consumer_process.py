"""An idempotent consumer in its own process, so that a test can pause it with SIGSTOP.

Its handler records each event (slowly, so that a pause lands in the middle of a batch) in the
table `received`; it runs `IdempotentConsumer.run()` exactly as a service's runtime does.
"""

from __future__ import annotations

import asyncio
import sys

from shared.consumer import IdempotentConsumer
from shared.contracts.dossier import DossierCompleted
from shared.db import Connection, create_pool
from shared.envelope import Envelope
from shared.logging import configure_logging


async def main(dsn: str, bootstrap: str, topic: str, group: str, member: str) -> None:
    async def record(conn: Connection, envelope: Envelope) -> None:
        await asyncio.sleep(0.1)
        await conn.execute(
            "INSERT INTO received (event_id, member) VALUES ($1, $2)", envelope.id, member
        )

    configure_logging("fault-consumer")
    pool = await create_pool(dsn, min_size=1, max_size=4)
    consumer = IdempotentConsumer(
        name=group,
        pool=pool,
        bootstrap_servers=bootstrap,
        topics=[topic],
        handlers={DossierCompleted.ce_type(): record},
    )
    await consumer.start()
    await consumer.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
