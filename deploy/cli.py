"""The `bilan` command line: local stack, development tokens, checks."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import click

from deploy import system
from deploy.checks import run_checks
from deploy.local import stack
from deploy.tokens import dev_token
from shared.auth import Role


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


@main.command("up")
def up() -> None:
    """Install what is missing, start Kafka, PostgreSQL and every service; wait until ready."""
    system.up()


@main.command("down")
def down() -> None:
    """Stop every service, then Kafka and PostgreSQL (data is kept)."""
    system.down()


@main.command("status")
def status() -> None:
    """Each process, its health and consumer lag; exit with 3 when something is down."""
    if not system.status():
        raise SystemExit(3)


@main.command("demo")
@click.option(
    "--dossiers",
    default=60,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="How many dossiers to open over the year.",
)
@click.option("--seed", default=2026, show_default=True, help="Seed of the random choices.")
def demo(dossiers: int, seed: int) -> None:
    """Fill the running system with a realistic organisation and a year of bilans, through the
    public APIs only (each run adds a new batch), then print a short guide."""
    from deploy import demo as demo_module
    from deploy.client import CLOCKED, BilanClient

    client = BilanClient()
    try:
        if not client.ready(CLOCKED):
            raise click.ClickException("the services are not running: run `bilan up` first")
        result = demo_module.run(client, dossiers=dossiers, seed=seed)
        demo_module.guide(result)
    finally:
        client.close()


@main.command("token")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role of the caller (repeat for several).",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="A site id the token may act on (repeat; none means every site).",
)
@click.option("--sub", "subject", default=None, help="Subject id (a new UUID by default).")
@click.option("--hours", default=12.0, show_default=True, help="Lifetime of the token.")
def token(
    roles: tuple[str, ...], sites: tuple[str, ...], subject: str | None, hours: float
) -> None:
    """Print a signed development token (the key pair is created once under .data/keys)."""
    click.echo(dev_token(roles, sites, subject, timedelta(hours=hours)))


@main.command(
    "test",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option("--no-lint", is_flag=True, help="Skip ruff, mypy and the import contracts.")
@click.option(
    "--containers/--no-containers",
    default=None,
    help="Run `bilan containers test` after pytest (default: only without pytest args).",
)
@click.option(
    "--unit",
    is_flag=True,
    help="Only the lint and tests/unit: no stack, browser or containers.",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test(no_lint: bool, containers: bool | None, unit: bool, pytest_args: tuple[str, ...]) -> None:
    """Start the stack if needed, then ruff, mypy, the import contracts, the whole test suite
    (extra args go to pytest) and the end-to-end journey against the Bilan image's containers.
    With --unit: the lint and tests/unit alone, without starting anything."""
    run_checks(pytest_args, lint=not no_lint, containers=containers, unit=unit)


@main.group(name="containers")
def containers_group() -> None:
    """The Bilan image and its containers, on Docker with host networking only."""


@containers_group.command("build")
def containers_build() -> None:
    """Build the image from a local Debian bookworm base (installs Docker if missing)."""
    from deploy.containers import engine, images

    with engine.engine() as docker:
        images.bilan_image(docker)


@containers_group.command("test")
def containers_test() -> None:
    """Build the image, run init and every Bilan process in hardened containers against the
    native Kafka and PostgreSQL, pass the end-to-end journey against them, remove them."""
    from deploy.containers import journey

    journey.run()


@main.group(name="dlq")
def dlq_group() -> None:
    """Dead-letter queues: what the consumers parked, and replaying it once fixed."""


_TOPIC_OPTION = click.option(
    "--topic",
    "topics",
    multiple=True,
    help="A source topic (repeatable); default: the three event topics.",
)


def _source_topics(topics: tuple[str, ...]) -> list[str]:
    from deploy.local.topics import EVENT_TOPICS

    return list(topics) or [t.name for t in EVENT_TOPICS]


@dlq_group.command("list")
@_TOPIC_OPTION
@click.option("--consumer", default=None, help="Only what this consumer group parked.")
@click.option("--bootstrap", default="127.0.0.1:9092", show_default=True)
def dlq_list(topics: tuple[str, ...], consumer: str | None, bootstrap: str) -> None:
    """One line per parked record: where, which consumer, which event, why."""
    import asyncio

    from deploy import dlq

    parked = dlq.select(
        asyncio.run(dlq.read_parked(bootstrap, _source_topics(topics))), consumer=consumer
    )
    for p in parked:
        click.echo(
            f"{p.ref}  consumer={p.header('bilan_consumer')}  type={p.header('ce_type')}  "
            f"id={p.header('ce_id')}  from={p.source_topic}:{p.header('bilan_source_partition')}"
            f":{p.header('bilan_source_offset')}  error={p.header('bilan_error')}"
        )
    click.echo(f"{len(parked)} parked record(s)")


@dlq_group.command("replay")
@_TOPIC_OPTION
@click.option("--consumer", default=None, help="Only what this consumer group parked.")
@click.option("--only", multiple=True, help="A record's ref from `dlq list` (repeatable).")
@click.option("--all", "everything", is_flag=True, help="Every parked record (or --consumer's).")
@click.option("--bootstrap", default="127.0.0.1:9092", show_default=True)
def dlq_replay(
    topics: tuple[str, ...],
    consumer: str | None,
    only: tuple[str, ...],
    everything: bool,
    bootstrap: str,
) -> None:
    """Publish parked records again on their source topic (consumers drop what they had)."""
    import asyncio

    from deploy import dlq

    if not (only or everything or consumer):
        raise click.UsageError("say which: --only REF, --consumer NAME or --all")
    parked = asyncio.run(dlq.read_parked(bootstrap, _source_topics(topics)))
    chosen = dlq.select(parked, consumer=consumer, only=only)
    missing = set(only) - {p.ref for p in chosen}
    if missing:
        raise click.ClickException(f"not parked: {', '.join(sorted(missing))}")
    done = asyncio.run(dlq.replay(bootstrap, chosen))
    click.echo(f"replayed {done} record(s)")


@main.group(name="reporting")
def reporting_group() -> None:
    """The reporting service's projections."""


@reporting_group.command("rebuild")
def reporting_rebuild() -> None:
    """Replay the topics from the beginning into a fresh projection, then switch to it."""
    # The reporting service's own command (`python -m services.reporting rebuild`), run in a
    # process of its own: the tooling imports no service. Its progress and result reach the
    # terminal directly; its exit status is ours.
    completed = subprocess.run([sys.executable, "-m", "services.reporting", "rebuild"], check=False)
    if completed.returncode != 0:
        raise SystemExit(completed.returncode)
