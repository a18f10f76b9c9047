"""Read-model rows, rewritten from an aggregate's state in the transaction that changed it."""

from __future__ import annotations

from services.survey.domain.action import ImprovementAction
from services.survey.domain.complaint import Complaint
from services.survey.domain.survey import Survey
from shared.db import Connection


async def project_survey(conn: Connection, state: Survey, version: int) -> None:
    """Upsert the survey's row (no answers' content: that stays in the events, sealed)."""
    await conn.execute(
        """INSERT INTO surveys (survey_id, dossier_id, site_id, campaign, respondent_role,
                                questionnaire_version, status, created_at, sent_at, expires_at,
                                reminders_sent, answered_at, satisfaction_score, version,
                                session_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           ON CONFLICT (survey_id) DO UPDATE SET
               status = EXCLUDED.status, sent_at = EXCLUDED.sent_at,
               expires_at = EXCLUDED.expires_at, reminders_sent = EXCLUDED.reminders_sent,
               answered_at = EXCLUDED.answered_at,
               satisfaction_score = EXCLUDED.satisfaction_score, version = EXCLUDED.version""",
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
        state.session_id,
    )


async def project_complaint(conn: Connection, state: Complaint, version: int) -> None:
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


async def project_action(conn: Connection, state: ImprovementAction, version: int) -> None:
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
