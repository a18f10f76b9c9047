"""The scheduling service on `tests.integration.harness` (real PostgreSQL, Kafka and, when
asked, SMTP), plus the dossier service's side of the contract, played by producing its events
to Kafka, and the site, room and staff most tests start from."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiokafka import TopicPartition

from services.scheduling.api.deps import SchedulingService
from shared.clock import FakeClock
from shared.contracts import dossier as d
from tests.integration.harness import (
    DOSSIER_TOPIC,
    SCHEDULING,
    SCHEDULING_TOPIC,
    Publisher,
    Running,
    ServiceHarness,
    auth,
    eventually,
    if_match,
    published,
)
from tests.integration.kafka_reading import end_offsets

__all__ = [
    "DOSSIER_TOPIC",
    "SCHEDULING_TOPIC",
    "DossierService",
    "Harness",
    "Running",
    "auth",
    "eventually",
    "if_match",
    "onboard",
    "published",
    "scheduling_offsets",
    "setup_site",
]


class DossierService(Publisher):
    """Plays the dossier service: its events, with per-dossier sequences, onto its topic."""

    async def open(
        self, dossier_id: uuid.UUID, beneficiary_id: uuid.UUID, site_id: str, at: datetime
    ) -> None:
        await self.publish(
            d.DossierOpened(
                dossier_id=dossier_id,
                beneficiary_id=beneficiary_id,
                site_id=uuid.UUID(site_id),
                funding_route="cpf",
                enquiry_received_at=at - timedelta(days=3),
                opened_at=at,
            )
        )

    async def assign_referent(
        self, dossier_id: uuid.UUID, consultant_id: str, at: datetime
    ) -> None:
        await self.publish(
            d.ReferentConsultantAssigned(
                dossier_id=dossier_id,
                consultant_id=uuid.UUID(consultant_id),
                previous_consultant_id=None,
                reason="initial",
                assigned_at=at,
            )
        )

    async def sign_convention(self, dossier_id: uuid.UUID, at: datetime) -> None:
        await self.publish(
            d.ConventionSigned(dossier_id=dossier_id, convention_id=uuid.uuid4(), signed_at=at)
        )


class Harness(ServiceHarness[SchedulingService]):
    """The scheduling service on one database with one fake clock (from Monday 5 January
    2026, 09:00 UTC)."""

    def __init__(
        self,
        db_dsn: str,
        kafka_bootstrap: str,
        *,
        smtp_port: int | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            SCHEDULING,
            db_dsn,
            kafka_bootstrap,
            clock=FakeClock(),
            smtp_port=smtp_port,
            overrides=overrides or {},
        )


async def scheduling_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    return await end_offsets(bootstrap, SCHEDULING_TOPIC)


async def setup_site(client: httpx.AsyncClient, *, confidential: bool = True) -> tuple[str, str]:
    """A new site with one room; returns (site_id, room_id)."""
    site = await client.post(
        "/sites", json={"name": "Lyon Part-Dieu", "region": "ara"}, headers=auth(["admin"], ["*"])
    )
    assert site.status_code == 201, site.text
    site_id = site.json()["site_id"]
    room = await client.post(
        f"/sites/{site_id}/rooms",
        json={"name": "B12", "confidential": confidential},
        headers=auth(["site_manager"], [site_id]),
    )
    assert room.status_code == 201, room.text
    return site_id, room.json()["room_id"]


async def onboard(
    client: httpx.AsyncClient,
    site_id: str,
    *,
    roles: list[str] | None = None,
    name: str = "Claire Dubois",
    email: str | None = None,
) -> str:
    staff_id = str(uuid.uuid4())
    response = await client.post(
        "/staff",
        json={
            "staff_id": staff_id,
            "name": name,
            "roles": roles or ["consultant"],
            "site_ids": [site_id],
            "contract": "employee",
            **({"email": email} if email is not None else {}),
        },
        headers=auth(["site_manager"], [site_id]),
    )
    assert response.status_code == 201, response.text
    return staff_id
