"""Log lines are JSON with the service and the bound context, and never personal data."""

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import REDACTED, bound, configure_logging, get_logger


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # configure_logging here writes to pytest's captured stdout, which is closed after the
    # test; loggers are lazy, so later tests would write to it.
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def test_json_lines_carry_service_and_correlation(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("dossier")
    with bound(correlation_id="corr-9", causation_id="evt-3"):
        get_logger("test").info("dossier_opened", dossier_id="d-1")
    get_logger("test").info("outside")
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["message"] == "dossier_opened"
    assert first["service"] == "dossier"
    assert first["correlation_id"] == "corr-9"
    assert first["causation_id"] == "evt-3"
    assert first["dossier_id"] == "d-1"
    assert first["level"] == "info"
    assert "correlation_id" not in second, "the binding ends with its block"


def test_personal_data_keys_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("dossier")
    get_logger().warning("oops", email="jeanne@example.fr", name="Jeanne", phone="0601020304")
    line = json.loads(capsys.readouterr().out)
    assert (line["email"], line["name"], line["phone"]) == (REDACTED, REDACTED, REDACTED)
    assert "jeanne" not in json.dumps(line).lower()


def test_standard_library_loggers_are_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("scheduling")
    logging.getLogger("uvicorn.error").warning("port busy")
    line = json.loads(capsys.readouterr().out)
    assert line["message"] == "port busy"
    assert line["service"] == "scheduling"


def test_a_logger_taken_before_configuration_logs_json(capsys: pytest.CaptureFixture[str]) -> None:
    # Modules take their logger at import time, before the service configures logging.
    structlog.reset_defaults()
    early = get_logger("shared.relay")
    configure_logging("survey")
    early.info("relay_leading", email="jeanne@example.fr")
    line = json.loads(capsys.readouterr().out)
    assert line["message"] == "relay_leading"
    assert line["logger"] == "shared.relay"
    assert line["service"] == "survey"
    assert line["email"] == REDACTED


def test_uvicorn_loggers_are_json_even_after_uvicorn_configured_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging.config

    import uvicorn.config

    # Any uvicorn.run in the process (a test server, the console's) applies this: a plain-text
    # handler on "uvicorn" that does not propagate to the JSON root handler.
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    configure_logging("dossier")
    logging.getLogger("uvicorn.error").warning("port busy")
    line = json.loads(capsys.readouterr().out)
    assert (line["message"], line["service"]) == ("port busy", "dossier")
