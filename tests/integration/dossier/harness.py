"""The dossier service's side of the harness: its people (a site, its consultant,
psychologist and manager), the calls they make and the dossiers they open, on a service
started by `tests.integration.harness.ServiceHarness(DOSSIER, ...)`."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from deploy.tokens import dev_token
from services.dossier.api.deps import DossierService
from shared.clock import FakeClock
from shared.contracts import QualificationRecorded, SessionHeld, StaffMemberOnboarded
from shared.contracts.base import IntegrationEvent
from tests.integration.harness import Publisher, Running, eventually

__all__ = ["IDENTITY", "MENTIONS", "SCAN", "Harness", "eventually", "produce"]

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
SCAN = {
    "media_type": "application/pdf",
    "content_base64": base64.b64encode(b"%PDF-1.4\n% a scanned signed page\n").decode(),
}
"""A scanned paper document, as staff attach it to a handwritten signature or consent."""


async def produce(bootstrap: str, events: list[IntegrationEvent], site_id: str) -> None:
    """Publish contract events as another service would (fresh ids, sequence per subject)."""
    await Publisher(bootstrap).publish_all(events, site_id)


@dataclass
class Harness:
    """The running service and the people who use it."""

    @classmethod
    def of(cls, running: Running[DossierService], bootstrap: str) -> Harness:
        return cls(running.client, running.app, running.clock, bootstrap)

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
            # The employer signs on paper; the manager records it with its scan.
            body: dict[str, Any] = {"party": party}
            if party == "employer":
                body["paper_document"] = SCAN
            await self.command(
                f"{url}/conventions/{convention}/signatures", headers, body, dossier_id=dossier
            )
        return dossier, beneficiary
