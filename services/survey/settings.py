"""Settings of the survey service (environment prefix `BILAN_SURVEY_`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SurveySettings(ServiceSettings):
    """Everything the survey service reads from its environment; delays are in days."""

    model_config = SettingsConfigDict(env_prefix="BILAN_SURVEY_", extra="ignore", frozen=True)

    service_name: str = Field("survey", description="Name used in logs, ce_source and groups.")
    http_port: int = Field(8003, ge=1, le=65535, description="Port of the HTTP API.")
    database_url: str = Field(
        "postgresql://bilan:bilan@127.0.0.1:5432/bilan_survey",
        description="asyncpg DSN of the survey service's database.",
    )
    dossier_events_topic: str = Field(
        "bilan.dossier.events", description="Topic of the dossier service's events."
    )
    scheduling_events_topic: str = Field(
        "bilan.scheduling.events", description="Topic of the scheduling service's events."
    )
    session_feedback: Literal["every_session", "last_of_phase", "off"] = Field(
        "last_of_phase",
        description="After which held bilan-phase sessions the beneficiary gets a "
        "`session_feedback` survey: every one, or the last of each phase (sent when the phase "
        "completes), or none.",
    )
    session_feedback_delay_hours: float = Field(
        2,
        ge=0,
        description="Hours after a phase completes before its last session's feedback survey "
        "goes (`last_of_phase`): the phase's last SessionHeld may reach this service after "
        "PhaseCompleted, which comes on another topic.",
    )
    dossier_contact_url: str = Field(
        "http://127.0.0.1:8001/internal/dossiers/{ref}/contact",
        description="The dossier service's contact endpoint; `{ref}` is the dossier id.",
    )
    staff_contact_url: str = Field(
        "http://127.0.0.1:8002/internal/staff/{ref}/contact",
        description="The scheduling service's staff contact endpoint; `{ref}` is the staff id.",
    )
    display_timezone: str = Field(
        "Europe/Paris", description="Time zone of the times written in e-mails."
    )
    public_answer_url: str = Field(
        "http://127.0.0.1:8003/public/surveys/{token}",
        description="The answer link put in e-mails; `{token}` is the single-use token.",
    )
    reminder_delays_days: list[float] = Field(
        [7, 14],
        description="Reminders, in days after the invitation was sent (Qualiopi ind. 30).",
    )
    answer_window_days: float = Field(
        30, gt=0, description="Days after the invitation during which the link answers."
    )
    six_month_delay_days: float = Field(
        182, gt=0, description="Days after DossierCompleted when the six-month survey goes out."
    )
    complaint_acknowledge_working_days: int = Field(
        2, ge=0, description="Working days (Mon-Fri, French holidays excluded) to acknowledge."
    )
    complaint_answer_days: int = Field(15, ge=1, description="Calendar days to answer.")
    mail_poll_interval_s: float = Field(1.0, gt=0, description="Mail sender polling interval.")
    public_rate_per_minute: float = Field(
        30, gt=0, description="Failed answer-link attempts (404, 410) a minute per client."
    )
    public_rate_burst: int = Field(
        20, ge=1, description="Failed answer-link attempts one client may make at once."
    )

    @field_validator("reminder_delays_days")
    @classmethod
    def _increasing_and_positive(cls, value: list[float]) -> list[float]:
        if any(d <= 0 for d in value) or value != sorted(set(value)):
            raise ValueError("reminder delays must be positive and strictly increasing")
        return value

    def reminder_delays(self) -> list[timedelta]:
        return [timedelta(days=d) for d in self.reminder_delays_days]

    def answer_window(self) -> timedelta:
        return timedelta(days=self.answer_window_days)

    def six_month_delay(self) -> timedelta:
        return timedelta(days=self.six_month_delay_days)
