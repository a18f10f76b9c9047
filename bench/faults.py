"""The fault matrix: the whole system under load while one fault at a time is injected.

It runs on a stack of its own — a private PostgreSQL and Kafka on free loopback ports
(tests/faults/instances.py), the four services as processes on free ports, a mail sink — so
it never touches the development stack, and anyone can run it beside `bilan up`:

    .venv/bin/python -m bench.faults                 # every fault, about 8 minutes
    .venv/bin/python -m bench.faults --only "kill -9 kafka" --rate 40

For each fault, on a site of its own: bilans are driven through the dossier API at `--rate`
commands per second (bench/system.py's 21-command journey) for `--before` seconds, the fault
is injected and lifted, the load goes on for `--after` seconds, then the system settles
(outboxes empty, reporting caught up). A client behaves as deploy/client.py does: a creating
command carries an `Idempotency-Key` and a lost answer or a 503 is retried with it; a
command with `If-Match` whose retry finds the version moved was applied by the first try.

Printed per fault: commands accepted; events lost (dossiers whose accepted opening or
completion is missing from the topics); duplicated in effect (a dossier opened or completed
twice, or opened without the client ever being told: a retry applied twice) and out of order
(a subject's sequence going back), from an independent recount (tests/faults/recount.py), with
the copies of an event under the same `ce_id` (the relay's resends after a crash, which
consumers drop) shown beside;
and whether reporting's figures equal that recount (bilans completed, every opened dossier's
checklist, no gap between stored and committed positions).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx

from bench.system import PLAN, Journey, Org, Pacer, organisation
from deploy.client import BilanClient, bearer
from deploy.local import kafka_admin
from deploy.local.topics import TOPICS
from deploy.tokens import dev_token
from tests.faults.instances import PrivateKafka, PrivatePostgres, free_port
from tests.faults.recount import read_all, recount

SERVICES = ("dossier", "scheduling", "survey", "reporting")
ROOT = Path(__file__).resolve().parents[1]
PERIOD = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


class System:
    """The private stack and the services, with the means to break them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pg = PrivatePostgres()
        self.kafka = PrivateKafka()
        self.ports = {name: free_port() for name in SERVICES}
        self.smtp_port = free_port()
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.dsns: dict[str, str] = {}

    async def start(self) -> None:
        self.pg.start()
        for name in SERVICES:
            self.dsns[name] = await self.pg.create_database(f"bilan_{name}")
        await asyncio.to_thread(self.kafka.start)
        await asyncio.to_thread(kafka_admin.create_missing, self.kafka.bootstrap, TOPICS)
        dev_token(["admin"])  # the development key pair every service verifies with
        self._spawn("mail-sink")
        for name in SERVICES:
            self._spawn(name)
        await self.wait_ready(SERVICES)

    def _env(self, name: str) -> dict[str, str]:
        prefix = f"BILAN_{name.upper()}_"
        env = {
            f"{prefix}DATABASE_URL": self.dsns[name],
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            f"{prefix}HTTP_PORT": str(self.ports[name]),
            f"{prefix}SMTP_PORT": str(self.smtp_port),
            f"{prefix}LOG_LEVEL": "WARNING",
        }
        if name in ("scheduling", "survey"):
            env[f"{prefix}DOSSIER_CONTACT_URL"] = (
                f"{self.urls['dossier']}/internal/dossiers/{{ref}}/contact"
            )
        if name == "reporting":
            env[f"{prefix}WORKER_DATA_DIR"] = str(self.workdir / "faust")
        return env

    def _spawn(self, name: str) -> None:
        if name == "mail-sink":
            argv = ["-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.smtp_port}"]
            argv += ["-c", "aiosmtpd.handlers.Sink"]
            env: dict[str, str] = {}
        else:
            argv, env = ["-m", f"services.{name}"], self._env(name)
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 (our own modules)
            [sys.executable, *argv],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, names: tuple[str, ...], timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2) as http:
            for name in names:
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(f"{self.urls[name]}/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} not ready; see {self.workdir}/{name}.log")
                    await asyncio.sleep(0.25)

    # -- faults -----------------------------------------------------------------------------

    async def kill_and_restart(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()
        await asyncio.sleep(2)  # a supervisor's first back-off
        self._spawn(name)

    async def pause(self, name: str, seconds: float) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(seconds)
        process.send_signal(signal.SIGCONT)

    async def kill_kafka(self, down_s: float) -> None:
        self.kafka.kill()
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.kafka.start)

    async def pause_kafka(self, seconds: float) -> None:
        assert self.kafka._process is not None
        self.kafka._process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(seconds)
        self.kafka._process.send_signal(signal.SIGCONT)

    async def crash_postgres(self, down_s: float) -> None:
        await asyncio.to_thread(self.pg.crash)
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.pg.start)

    # -- settling and checking ----------------------------------------------------------------

    async def outboxes_empty(self) -> bool:
        for name in ("dossier", "scheduling", "survey"):
            conn = await asyncpg.connect(self.dsns[name])
            try:
                if await conn.fetchval("SELECT count(*) FROM outbox"):
                    return False
            finally:
                await conn.close()
        return True

    async def reporting_status(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.get(
                f"{self.urls['reporting']}/v1/status", headers=bearer(["admin"])
            )
            body: dict[str, Any] = response.json()
            return body

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.kafka.remove()
        self.pg.remove()


class ProbeRecorder(BilanClient):
    """The set-up's client, remembering the probe dossiers `organisation` opens."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.probes: set[str] = set()

    def call(self, service: str, method: str, path: str, *a: Any, **kw: Any) -> Any:
        response = super().call(service, method, path, *a, **kw)
        if (service, method, path) == ("dossier", "POST", "/dossiers"):
            self.probes.add(response.json()["id"])
        return response


@dataclass
class Tally:
    accepted: int = 0
    retried: int = 0
    failed: int = 0
    opened: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)


async def send(http: aiohttp.ClientSession, base: str, journey: Journey, tally: Tally) -> None:
    """The journey's next command, retried as a careful client would until it is settled."""
    method, path, headers, body = journey.request()
    keyed = method == "POST" and "If-Match" not in headers
    if keyed:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    ambiguous = False
    deadline = time.monotonic() + 120
    while True:
        try:
            async with http.request(method, base + path, headers=headers, json=body) as r:
                status, answer, response_headers = r.status, await r.text(), r.headers
        except (aiohttp.ClientError, TimeoutError):
            status, answer, response_headers = 0, "", None
        if status in (0, 500, 502, 503, 504) and time.monotonic() < deadline:
            ambiguous = True
            tally.retried += 1
            await asyncio.sleep(1.0)
            continue
        break
    if status == 409 and ambiguous and not keyed:
        # The first try was applied; its answer was lost. Read the version it left.
        reader = {k: v for k, v in headers.items() if k != "If-Match"}
        async with http.get(f"{base}/dossiers/{journey.dossier}", headers=reader) as r:
            journey.version = int(r.headers["etag"].strip('"'))
        tally.accepted += 1
        _note(journey, path, tally)
        journey.step += 1
        return
    if status >= 300 or response_headers is None:
        tally.failed += 1
        raise RuntimeError(f"{method} {path}: {status} {answer[:200]}")
    tally.accepted += 1
    result = json.loads(answer)
    journey.version = result["version"]
    if journey.step == 0:
        journey.dossier = result["id"]
        beneficiary = response_headers["x-beneficiary-id"]
        journey.auth["beneficiary"] = bearer(["beneficiary"], [journey.org.site], beneficiary)
    elif path.endswith("/conventions"):
        journey.convention = str(response_headers["location"]).rsplit("/", 1)[1]
    _note(journey, path, tally)
    journey.step += 1


def _note(journey: Journey, path: str, tally: Tally) -> None:
    if journey.step == 0:
        tally.opened.add(journey.dossier)
    elif path.endswith("/completion") and journey.step == len(PLAN) - 1:
        tally.completed.add(journey.dossier)


async def load(
    system: System, org: Org, rate: float, seconds: float, workers: int, tally: Tally
) -> None:
    pacer = Pacer(rate, seconds)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def worker() -> None:
            journey = Journey(org)
            while await pacer.slot():
                try:
                    await send(http, system.urls["dossier"], journey, tally)
                except RuntimeError:
                    journey = Journey(org)  # a refused command ends that bilan here
                    continue
                if journey.done:
                    journey = Journey(org)

        await asyncio.gather(*(worker() for _ in range(workers)))


Fault = Callable[[System], Awaitable[None]]
FAULTS: dict[str, Fault] = {
    "none": lambda s: asyncio.sleep(0),
    "kill -9 dossier": lambda s: s.kill_and_restart("dossier"),
    "kill -9 scheduling": lambda s: s.kill_and_restart("scheduling"),
    "kill -9 survey": lambda s: s.kill_and_restart("survey"),
    "kill -9 reporting": lambda s: s.kill_and_restart("reporting"),
    "kill -9 kafka": lambda s: s.kill_kafka(5),
    "postgresql crash (10 s)": lambda s: s.crash_postgres(10),
    "SIGSTOP dossier (20 s)": lambda s: s.pause("dossier", 20),
    "SIGSTOP kafka (10 s)": lambda s: s.pause_kafka(10),
    "SIGSTOP reporting (20 s)": lambda s: s.pause("reporting", 20),
}


async def run_fault(
    system: System, name: str, fault: Fault, args: argparse.Namespace
) -> dict[str, Any]:
    api = ProbeRecorder(urls=system.urls)
    org = await asyncio.to_thread(organisation, api)
    api.close()
    tally = Tally()
    seconds = args.before + args.after
    loading = asyncio.create_task(load(system, org, args.rate, seconds, args.workers, tally))
    await asyncio.sleep(args.before)
    await fault(system)
    await loading
    await system.wait_ready(SERVICES)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            status = await system.reporting_status()
            if await system.outboxes_empty() and status["total_lag"] == 0:
                break
        await asyncio.sleep(1)
    topics = [t.name for t in TOPICS if not t.name.endswith(".dlq")]
    counted = recount(await read_all(system.kafka.bootstrap, topics), site=org.site)
    lost = len(tally.opened - counted.opened[org.site])
    lost += len(tally.completed - counted.completed[org.site])
    # A dossier in the topics that no answer told the client about: a retry created it twice.
    unknown = counted.opened[org.site] - tally.opened - api.probes
    served = await served_equal(system, org.site, counted)
    return {
        "fault": name,
        "accepted": tally.accepted,
        "retried": tally.retried,
        "refused": tally.failed,
        "lost": lost,
        "copies": counted.duplicates,
        "duplicated": counted.applied_twice + len(unknown),
        "out_of_order": counted.out_of_order,
        "reporting_equal": not served,
        "reporting_differs": served,
    }


async def served_equal(system: System, site: str, counted: Any) -> str:
    """Empty when reporting's figures equal the recount, else what differs."""
    expected = counted.completed_in(site, *PERIOD)
    auth = bearer(["admin"])
    async with httpx.AsyncClient(base_url=system.urls["reporting"], timeout=10) as http:
        figures = await http.get(
            "/v1/indicators",
            params={"from": "2000-01-01", "to": "2100-01-01", "site": site},
            headers=auth,
        )
        completed = figures.json()["indicators"]["bilans_completed"]["value"]
        missing = 0
        for dossier in counted.opened[site]:
            checklist = await http.get(f"/v1/dossiers/{dossier}/checklist", headers=auth)
            missing += checklist.status_code != 200
        status = (await http.get("/v1/status", headers=auth)).json()
    differences = []
    if completed != expected:
        differences.append(f"bilans_completed {completed} served, {expected} in the topics")
    if missing:
        differences.append(f"{missing} checklists missing")
    if status["total_gap"] or status["total_lag"]:
        differences.append(f"lag {status['total_lag']}, gap {status['total_gap']}")
    return "; ".join(differences)


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bilan-fault-matrix-"))
    system = System(workdir)
    print(f"fault matrix: private stack and logs in {workdir}")
    rows = []
    try:
        await system.start()
        chosen = {k: v for k, v in FAULTS.items() if not args.only or k in args.only}
        for name, fault in chosen.items():
            row = await run_fault(system, name, fault, args)
            rows.append(row)
            print(_line(row), flush=True)
    finally:
        system.stop()
    clean = all(
        r["lost"] == 0 and r["duplicated"] == 0 and r["out_of_order"] == 0 and r["reporting_equal"]
        # copies with the same ce_id are the relay's at-least-once resends after a crash:
        # every consumer drops them, so they are shown but are not a fault
        for r in rows
    )
    print("every cell at zero and equal" if clean else "FAULTS FOUND")
    return 0 if clean else 1


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['fault']:<26} accepted {row['accepted']:>5}  retried {row['retried']:>3}  "
        f"refused {row['refused']:>2}  lost {row['lost']}  duplicated {row['duplicated']}  "
        f"(copies dropped by ce_id {row['copies']})  "
        f"out of order {row['out_of_order']}  reporting = recount: "
        f"{'yes' if row['reporting_equal'] else 'NO: ' + row['reporting_differs']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=40.0, help="commands per second")
    parser.add_argument("--workers", type=int, default=16, help="journeys side by side")
    parser.add_argument("--before", type=float, default=10.0, help="seconds of load before")
    parser.add_argument("--after", type=float, default=20.0, help="seconds of load after")
    parser.add_argument("--only", action="append", help="run only this fault (repeatable)")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
