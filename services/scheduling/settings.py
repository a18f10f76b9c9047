"""Settings of the scheduling service (environment prefix `BILAN_SCHEDULING_`)."""

from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Everything the scheduling service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="BILAN_SCHEDULING_", extra="ignore", frozen=True)

    service_name: str = Field("scheduling", description="Name in logs, ce_source and groups.")
    http_port: int = Field(8002, ge=1, le=65535, description="Port of the HTTP API.")
    database_url: str = Field(
        "postgresql://bilan:bilan@127.0.0.1:5432/bilan_scheduling",
        description="asyncpg DSN of the scheduling database.",
    )
    dossier_events_topic: str = Field(
        "bilan.dossier.events", description="Where the dossier service publishes its events."
    )
    reminder_offsets_minutes: tuple[int, ...] = Field(
        (2880, 120),
        description="Reminders go out this many minutes before each session (48 h and 2 h).",
    )
    dossier_contact_url: str = Field(
        "http://127.0.0.1:8001/internal/dossiers/{ref}/contact",
        description="The dossier service's contact endpoint; `{ref}` is the dossier id.",
    )
    join_link_base: str = Field(
        "https://visio.bilan.localhost/s/",
        description="Remote sessions get a join link: this prefix and an unguessable token.",
    )
    mail_poll_interval_s: float = Field(1.0, gt=0, description="How often due mails are sought.")
    staff_name_retention_days: float = Field(
        5 * 365,
        ge=0,
        description="Days after `StaffMemberLeft` when the staff member's name is erased "
        "(its key shredded); the facts (trainings, sessions led) stay.",
    )
    display_timezone: str = Field(
        "Europe/Paris", description="Time zone of the times written in e-mails and the PDF."
    )
    working_day_start: time = Field(time(9, 0), description="Free slots start at (local).")
    working_day_end: time = Field(time(18, 0), description="Free slots end at (local).")
    working_weekdays: tuple[int, ...] = Field(
        (0, 1, 2, 3, 4), description="Days with free slots, 0 = Monday."
    )
