"""Microbenchmark of `shared.envelope.decode` and of the reporting `apply`, per record.

    .venv/bin/python -m bench.decode [--records 200000] [--repeat 3]

Encodes `--records` events of the reporting benchmark's mix (`bench.reporting`'s generators,
through `shared.envelope.encode`) in memory, then times `decode` over all of them, and
`apply` of the decoded envelopes into a fresh fact store, with `time.process_time`: CPU time
of this process only, so the figure holds up on a shared, busy machine far better than a
rate would. Prints the best of `--repeat` passes in µs per record. No broker, no database.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
import uuid
from collections.abc import Iterator

from bench.reporting import dossier_history, organisation
from services.reporting.facts import FactStore, apply
from shared.contracts import IntegrationEvent
from shared.envelope import decode, encode

Raw = tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]


def records(count: int) -> list[Raw]:
    """`count` encoded records: the organisation's facts, then whole dossier histories."""
    rng = random.Random(6)
    sites = [uuid.uuid4() for _ in range(5)]
    consultants = [uuid.uuid4() for _ in range(50)]
    sequences: dict[str, int] = {}
    found: list[Raw] = []

    def events() -> Iterator[IntegrationEvent]:
        yield from organisation(rng, sites)
        for n in itertools.count():
            yield from dossier_history(rng, sites[n % len(sites)], rng.choice(consultants))

    for event in itertools.islice(events(), count):
        subject = event.subject()
        sequences[subject] = sequences.get(subject, 0) + 1
        record = encode(
            event,
            event_id=uuid.uuid4(),
            sequence=sequences[subject],
            site_id=str(getattr(event, "site_id", None) or "org"),
            correlation_id="bench",
            causation_id="bench",
        )
        # A tuple of headers, as aiokafka's ConsumerRecord holds them.
        found.append((record.key, record.value, tuple(record.headers)))
    return found


def main(count: int, repeat: int) -> None:
    encoded = records(count)
    decode_best = apply_best = float("inf")
    envelopes = [decode(k, v, list(h)) for k, v, h in encoded]
    for _ in range(repeat):
        started = time.process_time()
        for key, value, headers in encoded:
            # As the rebuild does: each envelope is applied, then dropped.
            decode(key, value, list(headers))
        decode_best = min(decode_best, time.process_time() - started)
        store = FactStore()
        started = time.process_time()
        for envelope in envelopes:
            apply(store, envelope)
        apply_best = min(apply_best, time.process_time() - started)
    for label, best in (("decode", decode_best), ("apply", apply_best)):
        print(
            f"{label}: {best / count * 1e6:.2f} µs/record of CPU "
            f"({count / best:,.0f} records/s), best of {repeat} over {count:,} records"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(args.records, args.repeat)
