"""The questionnaire catalogue: seeded version 1 per campaign, new versions by quality leads."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.survey.adapters import questionnaires as catalogue
from services.survey.domain.errors import NotAllowedNow, NotFound
from services.survey.domain.questionnaire import (
    DEFAULT_QUESTIONNAIRES,
    Campaign,
    Question,
    Questionnaire,
    check_definition,
    questionnaire_from_dict,
    questionnaire_to_dict,
)
from shared.db import Connection

SEEDED_BY = "bootstrap"


async def seed_defaults(pool: asyncpg.Pool, now: datetime) -> None:
    """Publish version 1 of every campaign that has none (idempotent at every start)."""
    for campaign, questions in DEFAULT_QUESTIONNAIRES.items():
        definition = questionnaire_to_dict(Questionnaire(campaign, 1, questions))
        await catalogue.insert(
            pool, campaign, 1, definition, published_at=now, published_by=SEEDED_BY, if_absent=True
        )


async def current(conn: Connection | asyncpg.Pool, campaign: Campaign) -> Questionnaire:
    """The latest published version of a campaign's questionnaire."""
    row = await catalogue.latest_definition(conn, campaign)
    if row is None:
        raise NotFound("questionnaire_not_found", "no questionnaire for this campaign")
    return questionnaire_from_dict(row)


async def version(
    conn: Connection | asyncpg.Pool, campaign: Campaign, number: int
) -> Questionnaire:
    """One published version."""
    row = await catalogue.definition(conn, campaign, number)
    if row is None:
        raise NotFound("questionnaire_not_found", "no such questionnaire version")
    return questionnaire_from_dict(row)


async def publish(
    conn: Connection,
    campaign: Campaign,
    questions: tuple[Question, ...],
    *,
    expected_version: int,
    published_by: str,
    now: datetime,
) -> Questionnaire:
    """Publish the next version, if the caller edited the current one (else 409)."""
    check_definition(campaign, questions)
    async with conn.transaction():
        await catalogue.lock_campaign(conn, campaign)
        latest = await catalogue.latest_version(conn, campaign)
        if latest != expected_version:
            raise NotAllowedNow(
                "questionnaire_changed",
                "a newer version was published since you read it; read it again",
                current_version=latest,
            )
        published = Questionnaire(campaign, latest + 1, questions)
        await catalogue.insert(
            conn,
            campaign,
            published.version,
            questionnaire_to_dict(published),
            published_at=now,
            published_by=published_by,
        )
    return published
