"""Survey settings: delays are configuration, read from BILAN_SURVEY_* and checked."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.survey.settings import SurveySettings


def test_defaults_follow_the_issue() -> None:
    settings = SurveySettings()
    assert settings.http_port == 8003
    assert settings.database_url.endswith("/bilan_survey")
    assert settings.reminder_delays() == [timedelta(days=7), timedelta(days=14)]
    assert settings.answer_window() == timedelta(days=30)
    assert settings.six_month_delay() == timedelta(days=182)
    assert (settings.complaint_acknowledge_working_days, settings.complaint_answer_days) == (2, 15)


def test_delays_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILAN_SURVEY_REMINDER_DELAYS_DAYS", "[3, 10, 20]")
    monkeypatch.setenv("BILAN_SURVEY_ANSWER_WINDOW_DAYS", "45")
    monkeypatch.setenv("BILAN_SURVEY_SIX_MONTH_DELAY_DAYS", "180")
    settings = SurveySettings()
    assert settings.reminder_delays() == [timedelta(days=d) for d in (3, 10, 20)]
    assert settings.answer_window() == timedelta(days=45)
    assert settings.six_month_delay() == timedelta(days=180)


@pytest.mark.parametrize("delays", [[14, 7], [7, 7], [0, 7], [-1]])
def test_reminder_delays_must_be_positive_and_increasing(delays: list[float]) -> None:
    with pytest.raises(ValidationError):
        SurveySettings(reminder_delays_days=delays)
