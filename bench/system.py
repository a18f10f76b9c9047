"""The whole system under load: many beneficiaries' bilans driven concurrently through the
public HTTP APIs of the running system (`bilan up`), at a fixed command rate.

Prints, per target rate: commands per second sustained, p50/p99 command latency, and p50/p99
freshness: the time from a command's response to the moment its effect shows in the
reporting API (the dossier's checklist). A rate is sustainable when at least 95 % of it is
achieved with p99 latency ≤ 50 ms and p99 freshness ≤ 500 ms. Each line also gives a CPU
check taken just before that rate (`cpu_check`), since a shared host's speed varies.

    .venv/bin/python -m bench.system --rates 50,100,200,300 --seconds 30

Each journey is the dossier's commands from the enquiry to its completion (21 commands:
open, notice, needs analysis, programme, convention drafted, sent and signed by three
parties, referent, the three phases with a field inquiry, results, synthesis and its
delivery, completion); each command carries `If-Match` from the previous one's answer, so a
journey's commands are sequential while journeys run side by side. The journeys are spread
over those 21 steps when the clock starts, as independent beneficiaries are; `--lockstep`
starts them all at the enquiry instead, so that they move in step (a worst case).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from deploy.client import BilanClient, bearer, wait_until

DOSSIER = "http://127.0.0.1:8001"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REPORTING = "http://127.0.0.1:8004"
POLL_S = 0.01
"""Freshness is polled every 10 ms: the figure is exact to that."""
MAX_WATCHES = 4
"""Dossiers watched at once for freshness (a sample when more are opened)."""
MENTIONS = {
    "title": "Bilan de compétences",
    "objective": "Projet professionnel",
    "content": "Trois phases",
    "means": "Entretiens",
    "period": "Trois mois",
    "running_terms": "Huit séances",
    "follow_up_terms": "Suivi à six mois",
    "handover_terms": "Au seul bénéficiaire",
    "payment_terms": "Employeur",
}


EMPLOYER_SCAN = {
    "media_type": "application/pdf",
    "content_base64": base64.b64encode(b"%PDF-1.4\n% signed by the employer\n").decode(),
}


@dataclass
class Measures:
    latencies_ms: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    freshness_ms: list[float] = field(default_factory=list)
    errors: int = 0
    commands: int = 0
    elapsed_s: float = 0.0


class Pacer:
    """Hands out send times at `rate` per second from the start: an open-loop schedule, so a
    slow answer does not slow the offered load down (it shows as latency instead)."""

    def __init__(self, rate: float, seconds: float) -> None:
        self.interval = 1.0 / rate
        self.start = time.perf_counter()
        self.end = self.start + seconds
        self.issued = 0

    async def slot(self) -> bool:
        at = self.start + self.issued * self.interval
        self.issued += 1
        if at >= self.end:
            return False
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        return True


@dataclass
class Org:
    site: str
    consultant: str
    manager_auth: dict[str, str]
    consultant_auth: dict[str, str]


def organisation(api: BilanClient) -> Org:
    """A site and a consultant the dossier service knows (learnt over Kafka)."""
    site = str(
        api.call(
            "scheduling", "POST", "/sites", api.admin, {"name": "Bench", "region": "bench"}
        ).json()["site_id"]
    )
    consultant = str(uuid.uuid4())
    api.call(
        "scheduling",
        "POST",
        "/staff",
        api.admin,
        {
            "staff_id": consultant,
            "roles": ["consultant"],
            "site_ids": [site],
            "contract": "employee",
        },
    )
    manager = str(uuid.uuid4())
    # Staff tokens are signed once: signing is the bench's work, not the system's.
    org = Org(
        site,
        consultant,
        bearer(["site_manager"], [site], manager),
        bearer(["consultant"], [site], consultant),
    )

    def known() -> bool:
        # A throwaway dossier whose referent assignment succeeds once the consultant is known.
        probe = api.call(
            "dossier",
            "POST",
            "/dossiers",
            org.manager_auth,
            {
                "site_id": site,
                "funding_route": "cpf",
                "enquiry_received_at": "2020-01-01T00:00:00Z",
                "name": "Sonde",
                "email": "sonde@bench.example",
            },
        ).json()["id"]
        try:
            api.on_dossier(
                probe,
                "/referent",
                org.manager_auth,
                {"consultant_id": consultant, "reason": "initial"},
                method="PUT",
            )
            return True
        except Exception:
            return False

    wait_until(known, "the dossier service to learn the bench consultant", 60)
    return org


Step = tuple[str, str, str, dict[str, Any]]
"""(method, path with `{d}` for the dossier and `{c}` for its convention, who, body)."""

PLAN: list[Step] = [
    ("POST", "/dossiers", "manager", {}),  # the body is built per journey (a new identity)
    ("POST", "/dossiers/{d}/deontology-acknowledgements", "beneficiary", {"notice_version": 1}),
    ("PUT", "/dossiers/{d}/needs-analysis", "consultant",
     {"narrative": "Bench", "disability_accommodation_requested": False}),
    ("PUT", "/dossiers/{d}/programme", "consultant",
     {"planned_minutes": 1200, "modality": "mixed"}),
    ("POST", "/dossiers/{d}/conventions", "manager",
     {"kind": "tripartite", **MENTIONS, "duration_minutes": 1200, "price_cents": 180000}),
    ("POST", "/dossiers/{d}/conventions/{c}/sending", "manager", {}),
    # The employer signed on paper: the manager records it with its scan.
    ("POST", "/dossiers/{d}/conventions/{c}/signatures", "manager",
     {"party": "employer", "paper_document": EMPLOYER_SCAN}),
    ("POST", "/dossiers/{d}/conventions/{c}/signatures", "manager", {"party": "provider"}),
    ("POST", "/dossiers/{d}/conventions/{c}/signatures", "beneficiary", {"party": "beneficiary"}),
    ("PUT", "/dossiers/{d}/referent", "manager", {"consultant_id": "", "reason": "initial"}),
    ("POST", "/dossiers/{d}/phases/preliminary/start", "consultant", {}),
    ("POST", "/dossiers/{d}/phases/preliminary/completion", "consultant", {}),
    ("POST", "/dossiers/{d}/phases/investigation/start", "consultant", {}),
    ("POST", "/dossiers/{d}/field-inquiries", "consultant", {"contact_type": "company_visit"}),
    ("POST", "/dossiers/{d}/phases/investigation/completion", "consultant", {}),
    ("POST", "/dossiers/{d}/phases/conclusion/start", "consultant", {}),
    ("POST", "/dossiers/{d}/detailed-results-handover", "consultant", {}),
    ("POST", "/dossiers/{d}/synthesis/drafts", "consultant", {"content": "Bench synthesis"}),
    ("POST", "/dossiers/{d}/synthesis/delivery", "consultant", {"channel": "hand"}),
    ("POST", "/dossiers/{d}/phases/conclusion/completion", "consultant", {}),
    ("POST", "/dossiers/{d}/completion", "consultant", {}),
]  # fmt: skip


class Journey:
    """One bilan's commands in order, resumable one command at a time."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.step = 0
        self.version: int | None = None
        self.dossier = ""
        self.convention = ""
        self.auth = {"manager": org.manager_auth, "consultant": org.consultant_auth}

    @property
    def done(self) -> bool:
        return self.step == len(PLAN)

    def request(self) -> tuple[str, str, dict[str, str], dict[str, Any]]:
        method, path, who, body = PLAN[self.step]
        if self.step == 0:
            tag = uuid.uuid4().hex[:8]
            body = {
                "site_id": self.org.site,
                "funding_route": "employer_plan",
                "enquiry_received_at": "2020-01-01T00:00:00Z",
                "name": f"Bench {tag}",
                "email": f"bench.{tag}@bench.example",
            }
        elif "consultant_id" in body:
            body = {**body, "consultant_id": self.org.consultant}
        headers = dict(self.auth[who])
        if self.version is not None:
            headers["If-Match"] = f'"{self.version}"'
        return method, path.format(d=self.dossier, c=self.convention), headers, body

    async def send(self, http: aiohttp.ClientSession, measures: Measures | None) -> None:
        """The next command; its latency goes to `measures` unless None (positioning)."""
        method, path, headers, body = self.request()
        began = time.perf_counter()
        async with http.request(method, DOSSIER + path, headers=headers, json=body) as response:
            text = await response.text()
        took = (time.perf_counter() - began) * 1000
        if measures is not None:
            measures.latencies_ms.append(took)
            measures.by_step.setdefault(f"{method} {UUID.sub('{id}', path)}", []).append(took)
            measures.commands += 1
        if response.status >= 300:
            if measures is not None:
                measures.errors += 1
            raise RuntimeError(f"{method} {path}: {response.status} {text[:200]}")
        answer = json.loads(text)
        self.version = answer["version"]
        if self.step == 0:
            self.dossier = answer["id"]
            beneficiary = response.headers["x-beneficiary-id"]
            self.auth["beneficiary"] = bearer(["beneficiary"], [self.org.site], beneficiary)
        elif path.endswith("/conventions"):
            self.convention = str(response.headers["location"]).rsplit("/", 1)[1]
        self.step += 1


async def freshness(
    http: aiohttp.ClientSession, auditor: dict[str, str], dossier_id: str, since: float,
    measures: Measures,
) -> None:  # fmt: skip
    """Polls the reporting checklist of an opened dossier until it is known there."""
    deadline = since + 10
    url = f"{REPORTING}/v1/dossiers/{dossier_id}/checklist"
    while time.perf_counter() < deadline:
        try:
            async with http.get(url, headers=auditor) as response:
                await response.read()
        except aiohttp.ClientError:
            return  # no reporting API: freshness is not measured
        if response.status == 200:
            measures.freshness_ms.append((time.perf_counter() - since) * 1000)
            return
        await asyncio.sleep(POLL_S)


async def run_rate(
    org: Org, rate: float, seconds: float, workers: int, *, lockstep: bool = False
) -> Measures:
    measures = Measures()
    watches: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=workers + 16)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        auditor = bearer(["auditor"])

        def watch(dossier_id: str, since: float) -> None:
            # A sample of the opened dossiers, each watched from its opening on: a queue of
            # watches would add its own waiting to the figure, and watching every dossier at
            # high rates would load the reporting API with the bench's own polling.
            if len(watches) >= MAX_WATCHES:
                return
            task = asyncio.create_task(freshness(http, auditor, dossier_id, since, measures))
            watches.add(task)
            task.add_done_callback(watches.discard)

        journeys = [Journey(org) for _ in range(workers)]
        if not lockstep:
            # Independent beneficiaries are at different points of their bilans. Journeys that
            # all start at the enquiry stay in step under a shared pacer: every journey opens
            # within the same few milliseconds, and completes within the same few, so the
            # downstream work of 32 completions (surveys, mails, reporting) lands at once
            # and the commands sent meanwhile wait for the CPU. So before the clock starts,
            # journey i is advanced, unmeasured, by i/workers of a bilan's commands.
            await asyncio.gather(
                *(
                    _advance(http, journey, i * len(PLAN) // workers)
                    for i, journey in enumerate(journeys)
                )
            )
        pacer = Pacer(rate, seconds)

        async def worker(journey: Journey) -> None:
            while await pacer.slot():
                await journey.send(http, measures)
                if journey.step == 1:
                    watch(journey.dossier, time.perf_counter())  # freshness of DossierOpened
                if journey.done:
                    journey = Journey(org)

        began = time.perf_counter()
        results = await asyncio.gather(*(worker(j) for j in journeys), return_exceptions=True)
        elapsed = time.perf_counter() - began
        await asyncio.gather(*watches)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        print(f"  {len(failures)} workers failed, first: {failures[0]!r}")
    measures.elapsed_s = elapsed
    return measures


async def _advance(http: aiohttp.ClientSession, journey: Journey, steps: int) -> None:
    for _ in range(steps):
        await journey.send(http, None)


def cpu_check() -> float:
    """Milliseconds for a fixed pure-Python loop, median of five: how fast this machine runs
    Python right now. A VM on a shared host varies by up to 2x from one minute to the next
    (29 ms at best, 59 ms at worst on the machine of bench/README.md), and the latency tail
    with it, so each rate's line says what the machine gave it. A rough gauge: the loop barely
    touches memory."""
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        timings.append((time.perf_counter() - began) * 1000)
        time.sleep(0.05)
    return sorted(timings)[2]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,200,300", help="commands/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=64, help="journeys in flight")
    parser.add_argument("--steps", action="store_true", help="also print latency per command")
    parser.add_argument(
        "--lockstep",
        action="store_true",
        help="start every journey at the enquiry (they then move in step: a worst case)",
    )
    parser.add_argument(
        "--warmup", type=float, default=5, help="seconds at the first rate, not measured"
    )
    args = parser.parse_args()
    api = BilanClient()
    org = organisation(api)
    print(
        f"{'target/s':>9} {'achieved/s':>10} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'fresh p50':>9} {'fresh p99':>9} {'samples':>7} {'errors':>6} {'cpu ms':>6}  "
        "sustainable"
    )
    best = 0.0
    rates = [float(r) for r in args.rates.split(",")]
    if args.warmup > 0:
        # Freshly started services pay first-use costs (imports, caches, connections) on
        # their first requests: those are not the steady state being measured.
        asyncio.run(run_rate(org, rates[0], args.warmup, args.workers, lockstep=args.lockstep))
    for rate in rates:
        cpu_ms = cpu_check()
        m = asyncio.run(run_rate(org, rate, args.seconds, args.workers, lockstep=args.lockstep))
        achieved = m.commands / m.elapsed_s
        p99, f99 = percentile(m.latencies_ms, 99), percentile(m.freshness_ms, 99)
        ok = achieved >= 0.95 * rate and p99 <= 50 and f99 <= 500 and m.errors == 0
        best = max(best, achieved) if ok else best
        print(
            f"{rate:>9.0f} {achieved:>10.1f} {percentile(m.latencies_ms, 50):>7.1f} "
            f"{p99:>7.1f} {percentile(m.freshness_ms, 50):>9.1f} {f99:>9.1f} "
            f"{len(m.freshness_ms):>7} "
            f"{m.errors:>6} {cpu_ms:>6.0f}  {'yes' if ok else 'no'}"
        )
        if args.steps:
            for step, took in sorted(m.by_step.items(), key=lambda kv: -percentile(kv[1], 99)):
                print(f"    {percentile(took, 50):>7.1f} {percentile(took, 99):>7.1f}  {step}")
    print(f"highest sustainable rate measured: {best:.0f} commands/s")


if __name__ == "__main__":
    main()
