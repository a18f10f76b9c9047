"""The survey service on `tests.integration.harness`: fresh database, own consumer group
started at the end of the dossier and scheduling topics (so other engineers' events do not
flood it), a real SMTP server, a fake contact resolver, a fake clock, and a publisher of the
dossier service's events."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

from services.survey.api.deps import SurveyService
from shared import contracts as ct
from tests.integration.harness import (
    DOSSIER_TOPIC,
    SCHEDULING_TOPIC,
    SURVEY,
    SURVEY_TOPIC,
    Contacts,
    Running,
    ServiceHarness,
    auth,
    eventually,
)
from tests.integration.harness import Publisher as ContractPublisher

__all__ = [
    "DOSSIER_TOPIC",
    "LINK",
    "SCHEDULING_TOPIC",
    "SURVEY_TOPIC",
    "Contacts",
    "Harness",
    "Publisher",
    "Running",
    "auth",
    "eventually",
    "link_token",
]

LINK = re.compile(r"http://survey\.test/public/surveys/(\S+)")


class Publisher(ContractPublisher):
    """Publishes dossier-service events as the dossier service would (contract envelope)."""

    async def complete_bilan(
        self,
        dossier: uuid.UUID,
        beneficiary: uuid.UUID,
        site: str,
        completed_at: datetime,
        *,
        funding_route: str = "employer_plan",
        held_minutes: int = 1380,
        opened_days_before: int = 50,
    ) -> None:
        """The dossier service's events of a bilan opened, then completed at `completed_at`."""
        await self.publish(
            ct.DossierOpened(
                dossier_id=dossier,
                beneficiary_id=beneficiary,
                site_id=uuid.UUID(site),
                funding_route=funding_route,
                enquiry_received_at=completed_at - timedelta(days=opened_days_before + 10),
                opened_at=completed_at - timedelta(days=opened_days_before),
            ),
            site,
        )
        await self.publish(
            ct.DossierCompleted(
                dossier_id=dossier, held_minutes=held_minutes, completed_at=completed_at
            ),
            site,
        )


def link_token(message: Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = LINK.search(body.decode())
    assert found, "the e-mail carries an answer link"
    return found.group(1)


class Harness(ServiceHarness[SurveyService]):
    """The survey service on one database with one fake clock (from 2 March 2026, 09:00 UTC);
    `smtp_port` 1 where a test sends no mail."""

    def __init__(self, db_dsn: str, smtp_port: int, bootstrap: str, **overrides: Any) -> None:
        super().__init__(SURVEY, db_dsn, bootstrap, smtp_port=smtp_port, overrides=overrides)
