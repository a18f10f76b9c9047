"""The questionnaire catalogue: seeded version 1 per campaign, new versions by quality leads."""

from __future__ import annotations

from datetime import datetime

import asyncpg

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
        await pool.execute(
            """INSERT INTO questionnaires (campaign, version, definition, published_at,
                                           published_by)
               VALUES ($1, 1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            campaign,
            definition,
            now,
            SEEDED_BY,
        )


async def current(conn: Connection | asyncpg.Pool, campaign: Campaign) -> Questionnaire:
    """The latest published version of a campaign's questionnaire."""
    row = await conn.fetchval(
        "SELECT definition FROM questionnaires WHERE campaign = $1 ORDER BY version DESC LIMIT 1",
        campaign,
    )
    if row is None:
        raise NotFound("questionnaire_not_found", "no questionnaire for this campaign")
    return questionnaire_from_dict(row)


async def version(
    conn: Connection | asyncpg.Pool, campaign: Campaign, number: int
) -> Questionnaire:
    """One published version."""
    row = await conn.fetchval(
        "SELECT definition FROM questionnaires WHERE campaign = $1 AND version = $2",
        campaign,
        number,
    )
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
        # Serialises publishers of one campaign: two editors cannot both make version n+1.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('questionnaire:' || $1))", campaign
        )
        latest = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM questionnaires WHERE campaign = $1", campaign
        )
        if latest != expected_version:
            raise NotAllowedNow(
                "questionnaire_changed",
                "a newer version was published since you read it; read it again",
                current_version=latest,
            )
        published = Questionnaire(campaign, latest + 1, questions)
        await conn.execute(
            """INSERT INTO questionnaires (campaign, version, definition, published_at,
                                           published_by) VALUES ($1, $2, $3, $4, $5)""",
            campaign,
            published.version,
            questionnaire_to_dict(published),
            now,
            published_by,
        )
    return published
