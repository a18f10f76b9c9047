"""Benchmark of the reporting service (issue #6). A script, not a test: prints figures.

    .venv/bin/python -m bench.reporting [--dossiers 20000] [--sites 5]

1. Generates contract-valid histories (about 55 events per dossier: by default more than
   1,000,000 events over 20,000 dossiers and several sites) into the benchmark's OWN topics
   (`bench.<run>.{dossier,scheduling,survey}.events`, 6 partitions, unlimited retention, made
   and deleted here), never into the shared topics.
2. Measures the raw consumption rate of those topics with a plain aiokafka consumer (reference).
3. Measures the rebuild rate (`services.reporting.rebuild`, decode + apply + persist + switch)
   into a throwaway database, with one process and with two.
4. Serves the rebuilt projection with the reporting app under uvicorn (worker off) and measures
   p50/p99 of `GET /v1/indicators` over HTTP for a full year, organisation-wide and for one
   site (after one warm-up query that builds the scope's index).
5. For information, the live worker's rate over the same backlog, for each engine (`faust`,
   `aiokafka`), sampled over `--worker-seconds` each from a fresh database and group.

`--keep` leaves the topics in place at the end (the run id is printed); `--reuse RUN` measures
the topics a kept run generated instead of generating new ones (about 75 s saved), and deletes
them at the end unless `--keep` is given again. `--rebuild-only` stops after step 3.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.tokens import dev_token
from services.reporting.adapters.kafka_topics import topic_partitions
from services.reporting.bootstrap import create_app
from services.reporting.projector import Projector
from services.reporting.rebuild import rebuild
from services.reporting.settings import Settings
from shared.contracts import (
    AttendanceSigned,
    ComplaintAcknowledged,
    ComplaintReceived,
    ContinuousTrainingCompleted,
    ConventionSigned,
    ConventionSignedByParty,
    DeontologyInformationAcknowledged,
    DetailedResultsHandedOver,
    DossierAbandoned,
    DossierCompleted,
    DossierOpened,
    FieldInquiryCompleted,
    IntegrationEvent,
    NeedsAnalysisRecorded,
    NoShowRecorded,
    PersonalisedProgrammeAgreed,
    PhaseCompleted,
    PhaseStarted,
    ReferentConsultantAssigned,
    SessionHeld,
    SessionReminderSent,
    SessionScheduled,
    SiteOpened,
    SixMonthSituationReported,
    StaffMemberOnboarded,
    SurveyAnswered,
    SurveySent,
    SynthesisDelivered,
    WorkingDocumentsDestroyed,
)
from shared.envelope import encode
from shared.logging import configure_logging
from tests.unit.contracts.examples import example

KAFKA = "127.0.0.1:9092"
PG = "postgresql://bilan:bilan@127.0.0.1:5432"
START = datetime(2025, 1, 1, tzinfo=UTC)
PHASES = ("preliminary", "investigation", "conclusion")


def dossier_history(
    rng: random.Random, site: uuid.UUID, consultant: uuid.UUID
) -> Iterator[IntegrationEvent]:
    """One dossier's events in business-time order (about 55 of them)."""
    d = uuid.uuid4()
    t = START + timedelta(days=rng.uniform(0, 330), hours=rng.uniform(0, 8))

    def step(hours: float) -> datetime:
        nonlocal t
        t += timedelta(hours=hours)
        return t

    yield example(
        DossierOpened, dossier_id=d, site_id=site, enquiry_received_at=t, opened_at=step(1)
    )
    yield example(DeontologyInformationAcknowledged, dossier_id=d, acknowledged_at=step(1))
    yield example(
        ReferentConsultantAssigned,
        dossier_id=d,
        consultant_id=consultant,
        previous_consultant_id=None,
        reason="initial",
        assigned_at=step(1),
    )
    for party in ("beneficiary", "provider"):
        yield example(ConventionSignedByParty, dossier_id=d, party=party, signed_at=step(20))
    yield example(ConventionSigned, dossier_id=d, signed_at=step(1))
    yield example(PhaseStarted, dossier_id=d, phase="preliminary", started_at=step(24))
    abandon_after = rng.choice((None,) * 9 + ("investigation",))
    for phase in PHASES:
        if phase == "investigation":
            yield example(NeedsAnalysisRecorded, dossier_id=d, recorded_at=step(1))
            yield example(PersonalisedProgrammeAgreed, dossier_id=d, agreed_at=step(1))
            yield example(PhaseStarted, dossier_id=d, phase=phase, started_at=step(1))
        elif phase == "conclusion":
            yield example(PhaseStarted, dossier_id=d, phase=phase, started_at=step(1))
        for _ in range(3):
            session = uuid.uuid4()
            starts = step(rng.uniform(48, 200))
            yield example(
                SessionScheduled,
                session_id=session,
                dossier_id=d,
                consultant_id=consultant,
                site_id=site,
                phase=phase,
                starts_at=starts,
                scheduled_at=starts - timedelta(days=5),
            )
            yield example(
                SessionReminderSent,
                session_id=session,
                dossier_id=d,
                sent_at=starts - timedelta(days=1),
            )
            if rng.random() < 0.05:
                yield example(NoShowRecorded, session_id=session, dossier_id=d, recorded_at=step(1))
                continue
            yield example(
                SessionHeld,
                session_id=session,
                dossier_id=d,
                consultant_id=consultant,
                site_id=site,
                phase=phase,
                started_at=starts,
                duration_minutes=120,
            )
            for role in ("beneficiary", "consultant"):
                yield example(
                    AttendanceSigned,
                    session_id=session,
                    dossier_id=d,
                    signer_role=role,
                    signed_at=step(2),
                )
            if phase == "investigation":
                yield example(FieldInquiryCompleted, dossier_id=d, completed_at=step(24))
        if abandon_after == phase:
            yield example(
                DossierAbandoned,
                dossier_id=d,
                phase_at_abandon=phase,
                reason_category=rng.choice(("health", "personal", "employment_found")),
                abandoned_at=step(24),
            )
            yield example(WorkingDocumentsDestroyed, dossier_id=d, destroyed_at=step(24 * 20))
            return
        yield example(PhaseCompleted, dossier_id=d, phase=phase, completed_at=step(1))
    yield example(SynthesisDelivered, dossier_id=d, delivered_at=step(24))
    yield example(DetailedResultsHandedOver, dossier_id=d, handed_over_at=step(1))
    yield example(DossierCompleted, dossier_id=d, held_minutes=1080, completed_at=step(1))
    survey = uuid.uuid4()
    yield example(
        SurveySent,
        survey_id=survey,
        dossier_id=d,
        campaign="end_of_bilan",
        sent_at=step(1),
        expires_at=t + timedelta(days=30),
    )
    yield example(
        SurveyAnswered,
        survey_id=survey,
        dossier_id=d,
        campaign="end_of_bilan",
        satisfaction_score=rng.randint(2, 5),
        answered_at=step(30),
    )
    yield example(WorkingDocumentsDestroyed, dossier_id=d, destroyed_at=step(24 * 20))
    six = uuid.uuid4()
    yield example(
        SurveySent,
        survey_id=six,
        dossier_id=d,
        campaign="six_months",
        sent_at=step(24 * 160),
        expires_at=t + timedelta(days=30),
    )
    yield example(
        SixMonthSituationReported,
        dossier_id=d,
        survey_id=six,
        situation=rng.choice(("new_job", "in_training", "unchanged")),
        reported_at=step(48),
    )


def organisation(rng: random.Random, sites: list[uuid.UUID]) -> Iterator[IntegrationEvent]:
    """Sites, staff with training, complaints."""
    for site in sites:
        yield example(SiteOpened, site_id=site, opened_at=START - timedelta(days=900))
        for i in range(12):
            staff = uuid.uuid4()
            yield example(
                StaffMemberOnboarded,
                staff_id=staff,
                roles=["psychologist"] if i == 0 else ["consultant"],
                site_ids=[site],
                onboarded_at=START - timedelta(days=400),
            )
            yield example(
                ContinuousTrainingCompleted,
                staff_id=staff,
                hours=7.0,
                completed_at=START + timedelta(days=rng.uniform(0, 360)),
            )
        for _ in range(40):
            complaint = uuid.uuid4()
            received = START + timedelta(days=rng.uniform(0, 360))
            yield example(
                ComplaintReceived, complaint_id=complaint, site_id=site, received_at=received
            )
            yield example(
                ComplaintAcknowledged,
                complaint_id=complaint,
                acknowledged_at=received + timedelta(hours=rng.uniform(1, 48)),
            )


async def make_topics(run: str) -> dict[str, str]:
    names = {s: f"bench.{run}.{s}.events" for s in ("dossier", "scheduling", "survey")}
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(name, 6, 1, topic_configs={"retention.ms": "-1"})
                for topic in names.values()
                for name in (topic, topic + ".dlq")
            ]
        )
    finally:
        await admin.close()
    return names


async def existing_topics(run: str) -> dict[str, str]:
    """The topics of a run kept with `--keep`; fails if any of them is gone."""
    names = {s: f"bench.{run}.{s}.events" for s in ("dossier", "scheduling", "survey")}
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        missing = set(names.values()) - set(await admin.list_topics())
    finally:
        await admin.close()
    if missing:
        raise SystemExit(f"--reuse {run}: no topic {', '.join(sorted(missing))}")
    return names


async def count_records(topics: dict[str, str]) -> int:
    partitions = await topic_partitions(KAFKA, topics.values())
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None)
    await consumer.start()
    try:
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        return sum(end[tp] - begin[tp] for tp in partitions)
    finally:
        await consumer.stop()


async def delete_topics(names: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics([n for t in names.values() for n in (t, t + ".dlq")])
    finally:
        await admin.close()


async def produce(topics: dict[str, str], dossiers: int, site_count: int) -> int:
    rng = random.Random(6)
    sites = [uuid.uuid4() for _ in range(site_count)]
    consultants = [uuid.uuid4() for _ in range(50)]
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA,
        enable_idempotence=True,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    sequences: dict[str, int] = {}
    sent = 0

    async def send(event: IntegrationEvent) -> None:
        nonlocal sent
        subject = event.subject()
        sequences[subject] = sequences.get(subject, 0) + 1
        site = str(getattr(event, "site_id", None) or "org")
        record = encode(
            event,
            event_id=uuid.uuid4(),
            sequence=sequences[subject],
            site_id=site,
            correlation_id="bench",
            causation_id="bench",
        )
        await producer.send(
            topics[event.service], key=record.key, value=record.value, headers=record.headers
        )
        sent += 1

    try:
        for event in organisation(rng, sites):
            await send(event)
        for n in range(dossiers):
            for event in dossier_history(rng, sites[n % site_count], rng.choice(consultants)):
                await send(event)
            if n % 2000 == 0:
                print(f"  produced {sent:,} events ({n:,} dossiers)", flush=True)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def raw_rate(topics: dict[str, str]) -> tuple[int, float]:
    partitions = await topic_partitions(KAFKA, topics.values())
    consumer = AIOKafkaConsumer(
        bootstrap_servers=KAFKA,
        enable_auto_commit=False,
        group_id=None,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        started = time.perf_counter()
        seen = 0
        remaining = set(partitions)
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            seen += sum(len(records) for records in batches.values())
            remaining = {tp for tp in remaining if await consumer.position(tp) < end[tp]}
        return seen, time.perf_counter() - started
    finally:
        await consumer.stop()


async def query_latencies(
    client: httpx.AsyncClient, params: dict[str, str], rounds: int
) -> list[float]:
    headers = {"Authorization": f"Bearer {dev_token(['auditor'])}"}
    first = await client.get("/v1/indicators", params=params, headers=headers)
    assert first.status_code == 200, first.text
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = await client.get("/v1/indicators", params=params, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return timings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def worker_rate(settings: Settings, engine: str, seconds: float) -> float:
    """Events per second the live worker projects (decode, apply, persist) from a backlog."""
    database = f"bilan_reporting_bench_w{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f"CREATE DATABASE {database}")
    try:
        fresh = settings.model_copy(
            update={
                "database_url": f"{PG}/{database}",
                "consumer_group": f"bench-worker-{uuid.uuid4().hex[:8]}",
                "worker_engine": engine,
            }
        )
        app = create_app(fresh)
        async with app.router.lifespan_context(app):
            projector: Projector = app.state.service.projector
            async with asyncio.timeout(60):
                while projector.processed == 0:  # noqa: ASYNC110 - a counter, not an event
                    await asyncio.sleep(0.05)
            first, started = projector.processed, time.perf_counter()
            await asyncio.sleep(seconds)
            return (projector.processed - first) / (time.perf_counter() - started)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await admin.close()


async def main(
    dossiers: int,
    site_count: int,
    rounds: int,
    worker_seconds: float,
    *,
    keep: bool = False,
    reuse: str | None = None,
    rebuild_only: bool = False,
) -> None:
    run = reuse or uuid.uuid4().hex[:8]
    database = f"bilan_reporting_bench_{uuid.uuid4().hex[:8]}"
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.platform()}; Python {platform.python_version()}"
    )
    topics = await existing_topics(run) if reuse else await make_topics(run)
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f"CREATE DATABASE {database}")
    try:
        if reuse:
            produced = await count_records(topics)
            print(f"reusing run {run}: {produced:,} events generated by an earlier run")
        else:
            started = time.perf_counter()
            produced = await produce(topics, dossiers, site_count)
            print(
                f"produced {produced:,} events for {dossiers:,} dossiers over {site_count} "
                f"sites in {time.perf_counter() - started:.1f} s (run {run})"
            )
        seen, seconds = await raw_rate(topics)
        raw = seen / seconds
        print(f"raw aiokafka consumption: {seen:,} records in {seconds:.1f} s = {raw:,.0f} /s")
        settings = Settings(
            database_url=f"{PG}/{database}",
            dossier_topic=topics["dossier"],
            scheduling_topic=topics["scheduling"],
            survey_topic=topics["survey"],
            consumer_group=f"bench-reporting-{run}",
        )
        for processes in (1, 2):
            result = await rebuild(settings.model_copy(update={"rebuild_processes": processes}))
            print(
                f"rebuild ({processes} process{'es' if processes > 1 else ''}): "
                f"{result.events:,} events in {result.seconds:.1f} s = {result.rate:,.0f} /s "
                f"({result.rate / raw:.0%} of raw; goal >= 50%)"
            )
        if rebuild_only:
            return
        port = free_port()
        app = create_app(settings.model_copy(update={"http_port": port}), run_worker=False)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
        )
        serving = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(120):
                while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag only
                    await asyncio.sleep(0.1)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                site = next(iter(sorted(app.state.service.projector.store.sites)))
                year = {"from": "2025-01-01", "to": "2026-01-01"}
                for label, params in (("organisation", year), ("one site", {**year, "site": site})):
                    timings = await query_latencies(client, params, rounds)
                    print(
                        f"/v1/indicators over HTTP, full year, {label}: "
                        f"p50 {statistics.median(timings):.1f} ms, "
                        f"p99 {percentile(timings, 0.99):.1f} ms over {rounds} queries "
                        "(goal p99 <= 100 ms)"
                    )
        finally:
            server.should_exit = True
            await serving
        for engine in ("faust", "aiokafka"):
            rate = await worker_rate(settings, engine, worker_seconds)
            print(f"live worker ({engine} engine) on the backlog: {rate:,.0f} /s")
    finally:
        if keep:
            print(f"topics kept: measure them again with --reuse {run}")
        else:
            await delete_topics(topics)
        await admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--worker-seconds", type=float, default=30.0)
    parser.add_argument("--keep", action="store_true", help="leave the topics for --reuse")
    parser.add_argument("--reuse", metavar="RUN", help="measure the topics kept by run RUN")
    parser.add_argument(
        "--rebuild-only", action="store_true", help="skip query latencies and the live worker"
    )
    args = parser.parse_args()
    configure_logging("reporting-bench", "WARNING")  # the figures, not the service's info logs
    asyncio.run(
        main(
            args.dossiers,
            args.sites,
            args.rounds,
            args.worker_seconds,
            keep=args.keep,
            reuse=args.reuse,
            rebuild_only=args.rebuild_only,
        )
    )
