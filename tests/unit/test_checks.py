"""`bilan test` runs its steps in order; with `--unit` it starts nothing (no stack, no browser,
no containers) and runs pytest on tests/unit only. The steps' processes are recorded, not run."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from deploy import checks, cli
from deploy.local import chromium, stack


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argv of every step, by program name; each exits with 0 unless told otherwise."""
    ran: list[list[str]] = []

    def run(argv: Sequence[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        ran.append([Path(argv[0]).name, *argv[1:]])
        return subprocess.CompletedProcess(argv, 0)

    # deploy.checks calls subprocess.run: every step goes through it.
    monkeypatch.setattr(subprocess, "run", run)
    return ran


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What was provisioned: the stack and the browser (recorded, never started here)."""
    provisioned: list[str] = []
    monkeypatch.setattr(stack, "up", lambda: provisioned.append("stack"))
    monkeypatch.setattr(chromium, "ensure_installed", lambda: provisioned.append("chromium"))
    return provisioned


LINT = [
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["mypy", "."],
    ["lint-imports", "--no-cache"],
]


def test_unit_lints_then_runs_tests_unit_without_starting_anything(
    steps: list[list[str]], started: list[str]
) -> None:
    checks.run_checks((), unit=True)
    assert started == []
    assert steps == [*LINT, ["pytest", "tests/unit"]]


def test_unit_passes_extra_arguments_to_pytest_and_may_skip_the_lint(
    steps: list[list[str]], started: list[str]
) -> None:
    checks.run_checks(("-k", "settings"), lint=False, unit=True)
    assert started == []
    assert steps == [["pytest", "tests/unit", "-k", "settings"]]


def test_unit_refuses_the_containers(steps: list[list[str]], started: list[str]) -> None:
    with pytest.raises(click.UsageError):
        checks.run_checks((), unit=True, containers=True)
    assert (started, steps) == ([], [])


def test_the_whole_run_provisions_then_lints_tests_and_runs_the_containers(
    steps: list[list[str]], started: list[str]
) -> None:
    checks.run_checks(())
    assert started == ["stack", "chromium"]
    assert steps == [*LINT, ["pytest"], ["bilan", "containers", "test"]]


def test_a_failing_step_stops_the_run(
    monkeypatch: pytest.MonkeyPatch, steps: list[list[str]], started: list[str]
) -> None:
    def mypy_fails(argv: Sequence[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        steps.append([Path(argv[0]).name, *argv[1:]])
        return subprocess.CompletedProcess(argv, 1 if steps[-1][0] == "mypy" else 0)

    monkeypatch.setattr(subprocess, "run", mypy_fails)
    with pytest.raises(click.ClickException, match="mypy failed"):
        checks.run_checks((), unit=True)
    assert steps == LINT[:3]


def test_the_command_line_flag_reaches_the_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    monkeypatch.setattr(
        cli, "run_checks", lambda args, **options: calls.append((tuple(args), options))
    )
    result = CliRunner().invoke(cli.main, ["test", "--unit", "--no-lint", "-x"])
    assert result.exit_code == 0, result.output
    assert calls == [(("-x",), {"lint": False, "containers": None, "unit": True})]


@pytest.mark.parametrize("port", [5432, 9092])
def test_a_unit_test_cannot_reach_the_stack(port: int) -> None:
    # tests/unit/conftest.py refuses before connecting: this holds with the stack up or down.
    with pytest.raises(AssertionError, match="belongs in tests/integration"):
        socket.create_connection(("127.0.0.1", port), timeout=1)
