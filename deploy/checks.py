"""`bilan test`: the one entry point for every check, the same locally and in CI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from deploy.local import chromium, stack

REPO_ROOT = Path(__file__).resolve().parent.parent
_BIN = Path(sys.executable).parent


def _run(step: str, argv: Sequence[str]) -> None:
    click.echo(f"==> {step}: {' '.join(argv)}", err=True)
    completed = subprocess.run(argv, cwd=REPO_ROOT, check=False)  # noqa: S603 (fixed argv)
    if completed.returncode != 0:
        raise click.ClickException(f"{step} failed (exit {completed.returncode})")


def run_checks(
    pytest_args: Sequence[str],
    *,
    lint: bool = True,
    containers: bool | None = None,
    unit: bool = False,
) -> None:
    """Provision the stack (and the browser of the browser tests), lint, type-check, run the
    test suite, then the journey against containers (by default only with the whole suite:
    extra pytest arguments pick tests).

    `unit`: lint and `tests/unit` only (extra arguments go to pytest after it), without the
    stack, the browser or the containers: unit tests need no PostgreSQL, Kafka or SMTP."""
    if unit and containers:
        raise click.UsageError("--unit runs no containers (they need the stack)")
    if not unit:
        stack.up()
        chromium.ensure_installed()
    if lint:
        _run("ruff lint", [str(_BIN / "ruff"), "check", "."])
        _run("ruff format", [str(_BIN / "ruff"), "format", "--check", "."])
        _run("mypy", [str(_BIN / "mypy"), "."])
        # The shape of services/README.md: pure domains, independent services, and the
        # directions imports may go (the contracts are in pyproject.toml). Without its cache:
        # the whole graph takes about a second, and a stale cache could hide a broken contract.
        _run("import contracts", [str(_BIN / "lint-imports"), "--no-cache"])
    if unit:
        _run("pytest", [str(_BIN / "pytest"), "tests/unit", *pytest_args])
        return
    _run("pytest", [str(_BIN / "pytest"), *pytest_args])
    if not pytest_args if containers is None else containers:
        # After pytest: its end-to-end tests stop the native services they started, and the
        # containers need their ports.
        _run("containers", [str(_BIN / "bilan"), "containers", "test"])
