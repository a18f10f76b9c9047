"""Settings of the reporting service (environment prefix `BILAN_REPORTING_`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ApiSettings, KafkaSettings


class Settings(ApiSettings, KafkaSettings):
    """The reporting worker and API: topics to project, batch sizes, indicator parameters.

    Only the parts it uses: no SMTP, outbox relay or master key (it sends no mail, writes no
    events and holds no personal data)."""

    model_config = SettingsConfigDict(env_prefix="BILAN_REPORTING_", extra="ignore", frozen=True)

    service_name: str = Field("reporting", description="Name used in logs and the Kafka group.")
    database_url: str = Field(
        "postgresql://bilan:bilan@127.0.0.1:5432/bilan_reporting",
        description="asyncpg DSN of the reporting database (projection generations).",
    )
    http_port: int = Field(8004, ge=1, le=65535, description="Port of the HTTP API.")
    dossier_topic: str = Field("bilan.dossier.events", description="Topic of the dossier service.")
    scheduling_topic: str = Field(
        "bilan.scheduling.events", description="Topic of the scheduling service."
    )
    survey_topic: str = Field("bilan.survey.events", description="Topic of the survey service.")
    batch_size: int = Field(
        2_000, ge=1, le=50_000, description="Records applied and persisted per transaction."
    )
    batch_within_s: float = Field(
        0.05, gt=0, description="Longest wait to fill a batch before applying what arrived."
    )
    generation_poll_interval_s: float = Field(
        1.0, gt=0, description="How often the worker looks for a generation switched by a rebuild."
    )
    worker_engine: Literal["faust", "aiokafka"] = Field(
        "faust",
        description="`faust` (a Faust-streaming agent) or `aiokafka` (a plain consumer group, "
        "faster on large backlogs); both hand the same batches to the same projector.",
    )
    worker_data_dir: Path | None = Field(
        None,
        description="Faust's data directory. The worker keeps nothing in it (the projection "
        "lives in PostgreSQL), but Faust creates it at start; default: `<group>-data` in the "
        "system's temporary directory, never the working directory (read-only in the image).",
    )
    rebuild_processes: int = Field(
        2,
        ge=1,
        le=16,
        description="Processes that replay partitions in parallel during a rebuild (decoding "
        "is CPU-bound); 1 replays everything in the calling process.",
    )
    destruction_grace_days: int = Field(
        30, ge=0, description="Grace period after the end of a bilan for destroying documents."
    )

    @property
    def topics(self) -> tuple[str, str, str]:
        """The three contract topics, in the order dossier, scheduling, survey."""
        return (self.dossier_topic, self.scheduling_topic, self.survey_topic)

    @property
    def faust_data_dir(self) -> Path:
        """Where Faust may create its (empty) directories."""
        return self.worker_data_dir or Path(tempfile.gettempdir()) / f"{self.group}-data"

    @property
    def group(self) -> str:
        """The Kafka consumer group (Faust application id)."""
        return self.consumer_group or f"bilan-{self.service_name}"
