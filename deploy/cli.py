"""The `bilan` command line: local stack, development tokens, checks."""

from __future__ import annotations

import click

from deploy.local import stack


@click.group()
def main() -> None:
    """Bilan: bilans de compétences and Qualiopi evidence, event-sourced."""


@main.group(name="stack")
def stack_group() -> None:
    """The native local stack: Apache Kafka (KRaft) and PostgreSQL."""


@stack_group.command("up")
def stack_up() -> None:
    """Install what is missing, start Kafka and PostgreSQL, create databases and topics."""
    stack.up()


@stack_group.command("down")
def stack_down() -> None:
    """Stop Kafka and PostgreSQL cleanly (data is kept)."""
    stack.down()


@stack_group.command("status")
def stack_status() -> None:
    """Say what runs; exit with 3 when something is stopped or missing."""
    if not stack.status():
        raise SystemExit(3)
