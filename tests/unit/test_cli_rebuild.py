"""`bilan reporting rebuild` runs the reporting service's own command in a process of its own,
with the CLI's Python, and exits with its status (the process is recorded, not run)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest
from click.testing import CliRunner

from deploy import cli


@pytest.mark.parametrize("status", [0, 1, 3])
def test_the_rebuild_is_the_reporting_services_command(
    monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    ran: list[list[str]] = []

    def run(argv: Sequence[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        ran.append(list(argv))
        return subprocess.CompletedProcess(argv, status)

    monkeypatch.setattr(subprocess, "run", run)
    result = CliRunner().invoke(cli.main, ["reporting", "rebuild"])
    assert ran == [[sys.executable, "-m", "services.reporting", "rebuild"]]
    assert result.exit_code == status


def test_the_reporting_module_offers_the_rebuild() -> None:
    # What the CLI runs must exist: `python -m services.reporting rebuild --help`.
    completed = subprocess.run(
        [sys.executable, "-m", "services.reporting", "rebuild", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Replay the topics from the beginning" in completed.stdout
