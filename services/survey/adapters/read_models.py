"""Read-model rows, rewritten from an aggregate's state in the transaction that changed it, and
the queries the API lists them with."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.survey.domain.action import ImprovementAction
from services.survey.domain.complaint import Complaint
from services.survey.domain.survey import Survey
from shared.db import Connection


async def project_survey(
    conn: Connection, _before: Survey | None, state: Survey, version: int
) -> None:
    """Upsert the survey's row (no answers' content: that stays in the events, sealed)."""
    await conn.execute(
        """INSERT INTO surveys (survey_id, dossier_id, site_id, campaign, respondent_role,
                                questionnaire_version, status, created_at, sent_at, expires_at,
                                reminders_sent, answered_at, satisfaction_score, version,
                                scores, situation, session_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
           ON CONFLICT (survey_id) DO UPDATE SET
               status = EXCLUDED.status, sent_at = EXCLUDED.sent_at,
               expires_at = EXCLUDED.expires_at, reminders_sent = EXCLUDED.reminders_sent,
               answered_at = EXCLUDED.answered_at,
               satisfaction_score = EXCLUDED.satisfaction_score, version = EXCLUDED.version,
               scores = EXCLUDED.scores, situation = EXCLUDED.situation""",
        state.survey_id,
        state.dossier_id,
        state.site_id,
        state.campaign,
        state.respondent_role,
        state.questionnaire_version,
        state.status,
        state.created_at,
        state.sent_at,
        state.expires_at,
        state.reminders_sent,
        state.answered_at,
        state.satisfaction_score,
        version,
        dict(state.scores),
        state.situation,
        state.session_id,
    )


async def project_complaint(
    conn: Connection, _before: Complaint | None, state: Complaint, version: int
) -> None:
    """Upsert the complaint's row (no description or response: they stay sealed in events)."""
    await conn.execute(
        """INSERT INTO complaints (complaint_id, site_id, dossier_id, complainant_role, category,
                                   channel, status, received_at, acknowledge_due_at,
                                   answer_due_at, acknowledged_at, answered_at, closed_at,
                                   resolution, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (complaint_id) DO UPDATE SET
               status = EXCLUDED.status, acknowledged_at = EXCLUDED.acknowledged_at,
               answered_at = EXCLUDED.answered_at, closed_at = EXCLUDED.closed_at,
               resolution = EXCLUDED.resolution, version = EXCLUDED.version""",
        state.complaint_id,
        state.site_id,
        state.dossier_id,
        state.complainant_role,
        state.category,
        state.channel,
        state.status,
        state.received_at,
        state.acknowledge_due_at,
        state.answer_due_at,
        state.acknowledged_at,
        state.answered_at,
        state.closed_at,
        state.resolution,
        version,
    )


async def project_action(
    conn: Connection, _before: ImprovementAction | None, state: ImprovementAction, version: int
) -> None:
    """Upsert the improvement action's row."""
    await conn.execute(
        """INSERT INTO improvement_actions (action_id, source, source_id, site_id, owner_id,
                                            due_at, opened_at, completed_at, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (action_id) DO UPDATE SET
               completed_at = EXCLUDED.completed_at, version = EXCLUDED.version""",
        state.action_id,
        state.source,
        state.source_id,
        state.site_id,
        state.owner_id,
        state.due_at,
        state.opened_at,
        state.completed_at,
        version,
    )


async def _rows(conn: Connection, query: str, *args: object) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(query, *args)]


async def list_surveys(
    conn: Connection,
    *,
    campaign: str | None,
    status: str | None,
    all_sites: bool,
    sites: list[str],
    limit: int,
) -> list[dict[str, Any]]:
    """Survey rows of the given sites (every site with `all_sites`), newest first."""
    return await _rows(
        conn,
        """SELECT * FROM surveys WHERE ($1::text IS NULL OR campaign = $1)
             AND ($2::text IS NULL OR status = $2) AND ($3 OR site_id = ANY($4::text[]))
           ORDER BY created_at DESC LIMIT $5""",
        campaign,
        status,
        all_sites,
        sites,
        limit,
    )


async def list_complaints(
    conn: Connection, *, status: str | None, all_sites: bool, sites: list[str], limit: int
) -> list[dict[str, Any]]:
    """The register's rows, newest first."""
    return await _rows(
        conn,
        """SELECT * FROM complaints WHERE ($1::text IS NULL OR status = $1)
             AND ($2 OR site_id::text = ANY($3::text[]))
           ORDER BY received_at DESC LIMIT $4""",
        status,
        all_sites,
        sites,
        limit,
    )


async def unfinished_complaints(
    conn: Connection, *, all_sites: bool, sites: list[str]
) -> list[dict[str, Any]]:
    """Rows still waiting for their acknowledgement or their answer, soonest due first (which
    of them are overdue is the domain's rule, `complaint.past_due`)."""
    return await _rows(
        conn,
        """SELECT * FROM complaints
           WHERE (acknowledged_at IS NULL OR answered_at IS NULL)
             AND ($1 OR site_id::text = ANY($2::text[]))
           ORDER BY least(acknowledge_due_at, answer_due_at)""",
        all_sites,
        sites,
    )


async def list_actions(
    conn: Connection, *, all_sites: bool, sites: list[str], limit: int
) -> list[dict[str, Any]]:
    """Improvement actions of the given sites, soonest due first."""
    return await _rows(
        conn,
        """SELECT * FROM improvement_actions
           WHERE $1 OR site_id::text = ANY($2::text[]) ORDER BY due_at LIMIT $3""",
        all_sites,
        sites,
        limit,
    )


async def unfinished_actions(
    conn: Connection, *, all_sites: bool, sites: list[str]
) -> list[dict[str, Any]]:
    """Actions not completed, soonest due first (which are overdue is the domain's rule)."""
    return await _rows(
        conn,
        """SELECT * FROM improvement_actions
           WHERE completed_at IS NULL
             AND ($1 OR site_id::text = ANY($2::text[])) ORDER BY due_at""",
        all_sites,
        sites,
    )


# --- Look-ups of the write side on the survey rows -------------------------------------------


async def lock_survey(conn: Connection, survey_id: UUID) -> None:
    """Lock the survey's row for the transaction: writes to one survey (a reminder recorded,
    an answer arriving) take turns on it instead of failing on the stream version."""
    await conn.execute("SELECT 1 FROM surveys WHERE survey_id = $1 FOR UPDATE", survey_id)


async def survey_of_dossier(conn: Connection, dossier_id: UUID, campaign: str) -> UUID | None:
    """The dossier's survey of a campaign, if it has one (one per dossier and campaign)."""
    found: UUID | None = await conn.fetchval(
        "SELECT survey_id FROM surveys WHERE dossier_id = $1 AND campaign = $2",
        dossier_id,
        campaign,
    )
    return found


async def surveys_of_dossier(conn: Connection, dossier_id: UUID) -> list[UUID]:
    return [
        r["survey_id"]
        for r in await conn.fetch("SELECT survey_id FROM surveys WHERE dossier_id = $1", dossier_id)
    ]


async def session_surveyed(conn: Connection, session_id: UUID) -> bool:
    """Whether a survey asks about this held session already."""
    return bool(await conn.fetchval("SELECT true FROM surveys WHERE session_id = $1", session_id))
