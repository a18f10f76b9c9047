"""Translation of domain events into the integration contract (`events.md`, bilan.survey.events).

Only facts leave: ids, categories, times, scores. Sealed free text, descriptions, owners and
link hashes stay inside the service. Events without a contract counterpart (a survey created
but not yet sent, the cancellation of one never sent) publish nothing, which keeps
`ce_sequence` gap-free because the outbox counts only what it publishes.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.survey.domain import action as a
from services.survey.domain import complaint as c
from services.survey.domain import survey as s
from shared import contracts as ct
from shared.envelope import ORGANISATION_SITE
from shared.eventstore import OutboxMessage
from shared.runtime import outbox_message


def survey_outbox(state: s.Survey, event: s.SurveyEvent) -> Sequence[OutboxMessage]:
    """Contract events of one survey event; the site is the dossier's (`org` for stakeholders)."""
    published: list[ct.IntegrationEvent] = []
    if isinstance(event, s.InvitationSent):
        published.append(
            ct.SurveySent(
                survey_id=state.survey_id,
                dossier_id=state.dossier_id,
                campaign=state.campaign,
                respondent_role=state.respondent_role,
                questionnaire_version=state.questionnaire_version,
                sent_at=event.sent_at,
                expires_at=event.expires_at,
                session_id=state.session_id,
            )
        )
    elif isinstance(event, s.ReminderSent):
        published.append(
            ct.SurveyReminderSent(
                survey_id=state.survey_id,
                reminder_number=event.reminder_number,
                sent_at=event.sent_at,
            )
        )
    elif isinstance(event, s.SurveyAnswered):
        published.append(
            ct.SurveyAnswered(
                survey_id=state.survey_id,
                dossier_id=state.dossier_id,
                campaign=state.campaign,
                satisfaction_score=event.satisfaction_score,
                scores=dict(event.scores),
                answered_at=event.answered_at,
            )
        )
        if state.campaign == "six_months" and event.situation is not None:
            assert state.dossier_id is not None
            # .v2, keyed by the survey like its other events: one subject, one partition.
            published.append(
                ct.SixMonthSituationReported(
                    dossier_id=state.dossier_id,
                    survey_id=state.survey_id,
                    situation=event.situation,
                    reported_at=event.answered_at,
                )
            )
    elif isinstance(event, s.SurveyExpired):
        published.append(ct.SurveyExpired(survey_id=state.survey_id, expired_at=event.expired_at))
    elif isinstance(event, s.SurveyCancelled) and state.sent_at is not None:
        # Only a survey that was sent is announced cancelled: one never sent was never
        # published, so nothing outside waits for its answer.
        published.append(
            ct.SurveyCancelled(
                survey_id=state.survey_id, reason=event.reason, cancelled_at=event.cancelled_at
            )
        )
    return [outbox_message(e, state.site_id) for e in published]


def complaint_outbox(state: c.Complaint, event: c.ComplaintEvent) -> Sequence[OutboxMessage]:
    """Contract events of one complaint event; never the description nor the response."""
    published: ct.IntegrationEvent
    if isinstance(event, c.ComplaintReceived):
        published = ct.ComplaintReceived(
            complaint_id=state.complaint_id,
            site_id=state.site_id,
            dossier_id=state.dossier_id,
            complainant_role=state.complainant_role,
            category=state.category,
            received_at=event.received_at,
        )
    elif isinstance(event, c.ComplaintAcknowledged):
        published = ct.ComplaintAcknowledged(
            complaint_id=state.complaint_id, acknowledged_at=event.acknowledged_at
        )
    elif isinstance(event, c.ComplaintAnswered):
        published = ct.ComplaintAnswered(
            complaint_id=state.complaint_id, answered_at=event.answered_at
        )
    else:
        published = ct.ComplaintClosed(
            complaint_id=state.complaint_id, resolution=event.resolution, closed_at=event.closed_at
        )
    return [outbox_message(published, str(state.site_id))]


def action_outbox(state: a.ImprovementAction, event: a.ActionEvent) -> Sequence[OutboxMessage]:
    """Contract events of one improvement action event; an action without site is `org`."""
    published: ct.IntegrationEvent
    if isinstance(event, a.ActionOpened):
        published = ct.ImprovementActionOpened(
            action_id=state.action_id,
            source=state.source,
            source_id=state.source_id,
            site_id=state.site_id,
            due_at=state.due_at,
            opened_at=event.opened_at,
        )
    else:
        published = ct.ImprovementActionCompleted(
            action_id=state.action_id, completed_at=event.completed_at
        )
    site = str(state.site_id) if state.site_id is not None else ORGANISATION_SITE
    return [outbox_message(published, site)]
