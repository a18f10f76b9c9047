"""One-shot set-up for containers and clusters: create the topics, apply every migration.

`python -m deploy.init` (the compose file's `init` service, the Kubernetes Job). Idempotent:
existing topics are left alone and applied migrations are skipped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy.local.kafka_admin import create_missing
from deploy.local.topics import TOPICS
from shared.db import PLATFORM_MIGRATIONS, load_migrations, migrate
from shared.logging import configure_logging, get_logger

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
log = get_logger(__name__)


class InitSettings(BaseSettings):
    """Where the broker and each service's database are (env prefix `BILAN_INIT_`)."""

    model_config = SettingsConfigDict(env_prefix="BILAN_INIT_", extra="ignore")

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka brokers.")
    dossier_database_url: str = Field("postgresql://bilan:bilan@127.0.0.1:5432/bilan_dossier")
    scheduling_database_url: str = Field("postgresql://bilan:bilan@127.0.0.1:5432/bilan_scheduling")
    survey_database_url: str = Field("postgresql://bilan:bilan@127.0.0.1:5432/bilan_survey")


def service_migrations(service: str) -> list[Path]:
    """The platform migrations, then the service's own (if it has any)."""
    own = SERVICES_DIR / service / "migrations"
    return [PLATFORM_MIGRATIONS, *([own] if own.is_dir() else [])]


async def _migrate_all(settings: InitSettings) -> None:
    for service, dsn in (
        ("dossier", settings.dossier_database_url),
        ("scheduling", settings.scheduling_database_url),
        ("survey", settings.survey_database_url),
    ):
        applied = await migrate(dsn, load_migrations(*service_migrations(service)))
        log.info("migrations_done", target=service, applied=len(applied))


def main() -> None:
    configure_logging("init")
    settings = InitSettings()
    created = create_missing(settings.kafka_bootstrap_servers, TOPICS)
    log.info("topics_ready", created=created)
    asyncio.run(_migrate_all(settings))


if __name__ == "__main__":
    main()
