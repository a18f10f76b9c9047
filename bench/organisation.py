"""Grows the running system's organisation to a given number of dossiers, for the benchmarks.

    .venv/bin/python -m bench.organisation --dossiers 20000 [--concurrency 16]

Opens dossiers through the dossier service's public API (`POST /dossiers`, the command a site
manager runs for each enquiry: a new beneficiary with an encrypted identity, a dossier, its
events and their outbox messages), spread over the sites of the last `bilan demo`, until the
dossier database holds `--dossiers` of them. Run `bilan demo` first: the console benchmark
signs in as one of its beneficiaries, and the new dossiers join the demo's sites. Every person
it registers is fictitious (`…@bench.example`). Nothing is removed afterwards: `bilan down`
and `rm -rf .data` start again from nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from deploy.local.paths import DATA_DIR
from deploy.tokens import dev_token

DOSSIER_URL = "http://127.0.0.1:8001"
DOSSIER_DB = "postgresql://bilan:bilan@127.0.0.1:5432/bilan_dossier"
FUNDING_ROUTES = ("cpf", "employer_plan", "france_travail", "self_funded")
FIRST = ("Camille", "Louis", "Inès", "Hugo", "Chloé", "Nathan", "Léa", "Karim", "Manon", "Yanis")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau")


async def dossier_count(database_url: str = DOSSIER_DB) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM dossier_index"))
    finally:
        await connection.close()


def demo_sites() -> list[str]:
    last = DATA_DIR / "demo" / "last.json"
    if not last.exists():
        raise SystemExit("no demo organisation: run `bilan demo` first")
    sites = json.loads(last.read_text())["site_ids"]
    return [str(site) for site in sites]


async def grow(target: int, concurrency: int, url: str = DOSSIER_URL) -> int:
    """Opens dossiers until `target` exist; returns how many it opened."""
    missing = target - await dossier_count()
    if missing <= 0:
        return 0
    sites = demo_sites()
    headers = {"Authorization": f"Bearer {dev_token(['admin'])}"}
    rng = random.Random(target)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(missing):
        queue.put_nowait(i)
    run = f"{time.time_ns():x}"[-8:]
    opened = 0
    began = time.perf_counter()

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal opened
        while not queue.empty():
            i = queue.get_nowait()
            first, last = rng.choice(FIRST), rng.choice(LAST)
            body = {
                "site_id": sites[i % len(sites)],
                "funding_route": FUNDING_ROUTES[i % len(FUNDING_ROUTES)],
                "enquiry_received_at": (
                    datetime.now(UTC) - timedelta(days=rng.randint(30, 700))
                ).isoformat(),
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}.{run}.{i}@bench.example",
            }
            response = await client.post("/dossiers", json=body)
            if response.status_code != 201:
                raise SystemExit(f"POST /dossiers: {response.status_code} {response.text[:300]}")
            opened += 1
            if opened % 1000 == 0:
                rate = opened / (time.perf_counter() - began)
                print(f"  {opened}/{missing} dossiers opened ({rate:.0f}/s)", flush=True)

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    opened = asyncio.run(grow(args.dossiers, args.concurrency))
    print(f"opened {opened}; the organisation holds {asyncio.run(dossier_count())} dossiers")


if __name__ == "__main__":
    main()
