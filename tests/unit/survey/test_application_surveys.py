"""Starting a dossier's survey, on the in-memory event store and a fake clock: what it records,
publishes (nothing yet: a survey counts as sent once its invitation left) and queues."""

from __future__ import annotations

from typing import Any, cast
from uuid import uuid4

import pytest

from services.survey.application import questionnaires
from services.survey.application.surveys import SurveyCampaigns
from services.survey.domain.questionnaire import DEFAULT_QUESTIONNAIRES, Campaign, Questionnaire
from services.survey.settings import SurveySettings
from tests.unit.application_fakes import T0, FakeConnection, FakeRuntime


@pytest.fixture(autouse=True)
def _catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    async def current(_conn: Any, campaign: Campaign) -> Questionnaire:
        return Questionnaire(campaign, 1, DEFAULT_QUESTIONNAIRES[campaign])

    monkeypatch.setattr(questionnaires, "current", current)


async def test_a_dossier_survey_is_created_and_its_invitation_queued() -> None:
    runtime, conn = FakeRuntime(), FakeConnection()
    surveys = SurveyCampaigns(cast(Any, runtime), SurveySettings())
    woken: list[bool] = []
    surveys.wake_mail = lambda: woken.append(True)
    dossier_id = uuid4()
    survey_id = await surveys.start_survey(cast(Any, conn), dossier_id, "site-1", "end_of_bilan")
    assert survey_id is not None
    (created,) = await runtime.stream(f"survey-{survey_id}")
    assert created.type == "SurveyCreated"
    assert created.data["dossier_id"] == str(dossier_id)
    assert created.data["created_at"] == T0.isoformat()
    assert runtime.published() == []  # SurveySent waits for the invitation to leave
    assert conn.wrote("surveys")  # the read model
    assert any("mail_outbox" in statement for statement in conn.statements)
    assert woken == [True]  # no transaction open: the sender is woken at once
    state = (await surveys.repository.load(survey_id)).state
    assert state is not None
    assert (state.status, state.campaign, state.questionnaire_version) == (
        "created",
        "end_of_bilan",
        1,
    )
