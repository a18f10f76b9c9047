"""Reporting and the console carry only the settings they use: not the command services'
runtime (master key, outbox relay, consumer retries, timers, internal token), and reporting,
which sends no mail, no SMTP either. A field they carry but never read would still be required
to be right in production (the master key placeholder refused) and set in every manifest."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from services.console.settings import ConsoleSettings
from services.reporting.settings import Settings as ReportingSettings
from shared.settings import ServiceSettings

RUNTIME_ONLY = {
    "master_key",
    "master_key_id",
    "relay_batch_size",
    "relay_poll_interval_s",
    "consumer_max_retries",
    "timer_poll_interval_s",
    "internal_token",
}
SMTP = {
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "smtp_password",
    "smtp_starttls",
    "smtp_local_hostname",
    "mail_from",
}


def test_the_field_sets_name_real_fields_of_the_command_services() -> None:
    # Guards the test itself: a misspelt name would make the checks below pass vacuously.
    assert set(ServiceSettings.model_fields) >= RUNTIME_ONLY
    assert set(ServiceSettings.model_fields) >= SMTP


@pytest.mark.parametrize("settings", [ReportingSettings, ConsoleSettings])
def test_the_query_side_has_no_master_key_relay_or_other_runtime_setting(
    settings: type[BaseSettings],
) -> None:
    assert set(settings.model_fields) & RUNTIME_ONLY == set()
    assert not issubclass(settings, ServiceSettings)


def test_reporting_has_no_smtp_setting() -> None:
    assert set(ReportingSettings.model_fields) & SMTP == set()


def test_the_console_keeps_smtp_for_its_sign_in_links_but_not_kafka() -> None:
    fields = set(ConsoleSettings.model_fields)
    assert fields >= SMTP
    assert fields & {"kafka_bootstrap_servers", "consumer_group", "jwt_public_key_file"} == set()


def test_environment_variable_names_are_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILAN_REPORTING_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("BILAN_REPORTING_JWT_ISSUER", "issuer")
    monkeypatch.setenv("BILAN_CONSOLE_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("BILAN_CONSOLE_JWT_AUDIENCE", "audience")
    monkeypatch.setenv("BILAN_CONSOLE_BLIND_INDEX_KEY", "A" * 43 + "=")
    reporting, console = ReportingSettings(), ConsoleSettings()
    assert (reporting.kafka_bootstrap_servers, reporting.jwt_issuer) == ("kafka:9092", "issuer")
    assert (console.smtp_host, console.jwt_audience) == ("smtp.example.org", "audience")
    assert console.blind_index_key is not None
