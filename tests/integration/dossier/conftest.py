"""The dossier service over HTTP on a fresh database, the real Kafka and a fake clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from deploy.tokens import dev_token
from services.dossier.api.deps import DossierService
from services.dossier.bootstrap import create_app
from services.dossier.settings import Settings
from shared.clock import FakeClock
from shared.contracts import QualificationRecorded, SessionHeld, StaffMemberOnboarded
from shared.contracts.base import IntegrationEvent
from shared.envelope import encode

MENTIONS = {
    "title": "Bilan de compétences",
    "objective": "Build a professional project",
    "content": "Three phases as R6313-4 says",
    "means": "Interviews, tests, field inquiries",
    "period": "March to May 2026",
    "running_terms": "Eight sessions",
    "follow_up_terms": "Follow-up interview after six months",
    "handover_terms": "Results and synthesis handed to the beneficiary only",
    "payment_terms": "Employer pays at the end",
}
IDENTITY = {"name": "Camille Zéphyrine Martin", "email": "camille.zephyrine@example.org"}


async def produce(bootstrap: str, events: list[IntegrationEvent], site_id: str) -> None:
    """Publish contract events as another service would (fresh ids, sequence per subject)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sequences: dict[str, int] = {}
        for event in events:
            sequences[event.subject()] = sequences.get(event.subject(), 0) + 1
            record = encode(
                event,
                event_id=uuid.uuid4(),
                sequence=sequences[event.subject()],
                site_id=site_id,
                correlation_id="test",
                causation_id="test",
            )
            await producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=record.headers
            )
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.1)


@dataclass
class Harness:
    """The running service and the people who use it."""

    client: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock
    bootstrap: str
    site: str = field(default_factory=lambda: str(uuid.uuid4()))
    consultant: str = field(default_factory=lambda: str(uuid.uuid4()))
    psychologist: str = field(default_factory=lambda: str(uuid.uuid4()))
    manager: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def service(self) -> DossierService:
        svc: DossierService = self.app.state.dossier_service
        return svc

    def auth(
        self, role: str, subject: str | None = None, site: str | None = None
    ) -> dict[str, str]:
        token = dev_token([role], [site or self.site], subject=subject)
        return {"Authorization": f"Bearer {token}"}

    def as_consultant(self) -> dict[str, str]:
        return self.auth("consultant", self.consultant)

    def as_psychologist(self) -> dict[str, str]:
        return self.auth("psychologist", self.psychologist)

    def as_manager(self) -> dict[str, str]:
        return self.auth("site_manager", self.manager)

    async def staff_known(self) -> None:
        """Publish the site's staff on the scheduling topic and wait until learnt."""
        now = self.clock.now()
        await produce(
            self.bootstrap,
            [
                StaffMemberOnboarded(
                    staff_id=uuid.UUID(self.consultant),
                    roles=["consultant"],
                    site_ids=[uuid.UUID(self.site)],
                    contract="employee",
                    onboarded_at=now,
                ),
                StaffMemberOnboarded(
                    staff_id=uuid.UUID(self.psychologist),
                    roles=["psychologist"],
                    site_ids=[uuid.UUID(self.site)],
                    contract="employee",
                    onboarded_at=now,
                ),
                QualificationRecorded(
                    staff_id=uuid.UUID(self.psychologist),
                    qualification="psychology_master",
                    habilitations=["psychometric_tests"],
                    recorded_at=now,
                ),
            ],
            self.site,
        )

        async def learnt() -> bool:
            # Staff events are keyed by staff id: they arrive on different partitions, in any
            # order, so wait for every one of them.
            learnt_staff = await self.service.pool.fetch(
                "SELECT staff_id, habilitations FROM staff WHERE active AND staff_id = ANY($1)",
                [uuid.UUID(self.consultant), uuid.UUID(self.psychologist)],
            )
            habilitations = {str(r["staff_id"]): r["habilitations"] for r in learnt_staff}
            return len(habilitations) == 2 and bool(habilitations[self.psychologist])

        await eventually(learnt)

    async def session_held(
        self, dossier_id: str, phase: str, minutes: int, *, counted_total: int | None = None
    ) -> None:
        """Publish a SessionHeld; with `counted_total`, wait until the dossier counts that."""
        await produce(
            self.bootstrap,
            [
                SessionHeld(
                    session_id=uuid.uuid4(),
                    dossier_id=uuid.UUID(dossier_id),
                    consultant_id=uuid.UUID(self.consultant),
                    site_id=uuid.UUID(self.site),
                    phase=phase,
                    modality="in_person",
                    started_at=self.clock.now() - timedelta(minutes=minutes),
                    duration_minutes=minutes,
                )
            ],
            self.site,
        )
        if counted_total is None:
            return

        async def counted() -> bool:
            view = await self.call("GET", f"/dossiers/{dossier_id}", self.as_manager())
            return bool(view.json()["held_minutes"] == counted_total)

        await eventually(counted)

    async def call(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json: dict[str, Any] | None = None,
        *,
        expect: int = 200,
        version: int | None = None,
    ) -> httpx.Response:
        if version is not None:
            headers = {**headers, "If-Match": f'"{version}"'}
        response = await self.client.request(method, url, headers=headers, json=json)
        assert response.status_code == expect, response.text
        return response

    async def version(self, dossier_id: str) -> int:
        response = await self.call("GET", f"/dossiers/{dossier_id}", self.as_manager())
        return int(response.headers["etag"].strip('"'))

    async def command(
        self,
        url: str,
        headers: dict[str, str],
        json: dict[str, Any] | None = None,
        *,
        dossier_id: str,
        expect: int = 200,
        method: str = "POST",
    ) -> httpx.Response:
        """A command on a dossier at its current version."""
        version = await self.version(dossier_id)
        return await self.call(method, url, headers, json or {}, expect=expect, version=version)

    async def open_dossier(self, funding_route: str = "employer_plan") -> tuple[str, str]:
        response = await self.call(
            "POST",
            "/dossiers",
            self.as_manager(),
            {
                "site_id": self.site,
                "funding_route": funding_route,
                "enquiry_received_at": (self.clock.now() - timedelta(days=3)).isoformat(),
                **IDENTITY,
                "phone": "+33 6 12 34 56 78",
            },
            expect=201,
        )
        return response.json()["id"], response.headers["x-beneficiary-id"]

    async def signed_dossier(self, kind: str = "tripartite") -> tuple[str, str]:
        """Opened, notice acknowledged, needs and programme recorded, convention signed."""
        dossier, beneficiary = await self.open_dossier()
        url = f"/dossiers/{dossier}"
        await self.command(
            f"{url}/deontology-acknowledgements",
            self.auth("beneficiary", beneficiary),
            {"notice_version": 2},
            dossier_id=dossier,
        )
        await self.command(
            f"{url}/needs-analysis",
            self.as_consultant(),
            {
                "narrative": "Burn-out in accounting; wants to teach",
                "disability_accommodation_requested": True,
            },
            dossier_id=dossier,
            method="PUT",
        )
        await self.command(
            f"{url}/programme",
            self.as_consultant(),
            {"planned_minutes": 1200, "modality": "mixed"},
            dossier_id=dossier,
            method="PUT",
        )
        drafted = await self.command(
            f"{url}/conventions",
            self.as_manager(),
            {"kind": kind, **MENTIONS, "duration_minutes": 1200, "price_cents": 180000},
            dossier_id=dossier,
            expect=201,
        )
        convention = drafted.headers["location"].rsplit("/", 1)[1]
        await self.command(
            f"{url}/conventions/{convention}/sending", self.as_manager(), dossier_id=dossier
        )
        parties = (
            ["beneficiary", "provider"]
            if kind != "tripartite"
            else ["employer", "provider", "beneficiary"]
        )
        for party in parties:
            headers = (
                self.auth("beneficiary", beneficiary)
                if party == "beneficiary"
                else self.as_manager()
            )
            await self.command(
                f"{url}/conventions/{convention}/signatures",
                headers,
                {"party": party},
                dossier_id=dossier,
            )
        return dossier, beneficiary


@pytest.fixture
async def harness(db_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Harness]:
    dev_token(["admin"])  # makes sure the development key pair exists
    settings = Settings(
        database_url=db_dsn,
        consumer_group=f"test-dossier-{uuid.uuid4().hex[:8]}",
        relay_poll_interval_s=0.05,
        timer_poll_interval_s=0.05,
    )
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dossier"
        ) as client,
    ):
        yield Harness(client, app, clock, kafka_bootstrap)
