"""The native local stack: PostgreSQL, then Kafka, then Bilan's topics.

``up`` is idempotent (a second call only checks), ``down`` stops both cleanly and keeps
the data, ``status`` says what runs. See deploy/local/README.md.
"""

from __future__ import annotations

import time

import click

from deploy.local import kafka_admin, kafka_broker, postgres
from deploy.local.paths import DATA_DIR, relative
from deploy.local.procs import port_open
from deploy.local.topics import TOPICS


def up() -> None:
    """Start whatever is not running and create the databases and topics that are missing."""
    began = time.monotonic()
    if _another_checkouts_stack():
        # A second clone or work tree of the same machine: share the running stack rather
        # than fail on its ports (the databases and topics are the same).
        click.echo("stack: using the Kafka and PostgreSQL already running on 127.0.0.1")
        made = postgres.create_missing_over_tcp()
        if made:
            click.echo(f"postgresql: created {', '.join(made)}")
    else:
        postgres.up()
        kafka_broker.up()
    created = kafka_admin.create_missing(kafka_broker.BOOTSTRAP, TOPICS)
    if created:
        click.echo(f"topics: created {', '.join(created)}")
    else:
        click.echo(f"topics: all {len(TOPICS)} present")
    _warn_about_partitions()
    click.echo(f"stack: up in {time.monotonic() - began:.1f}s (data in {relative(DATA_DIR)}/)")


def _another_checkouts_stack() -> bool:
    """Both ports answer, not from this checkout's processes, and they are a Bilan stack."""
    if postgres.running_pid() is not None or kafka_broker.running_pid() is not None:
        return False
    if not (port_open(postgres.HOST, postgres.PORT) and port_open("127.0.0.1", 9092)):
        return False
    return postgres.accepts_bilan_login() and kafka_admin.serves_metadata(kafka_broker.BOOTSTRAP)


def _warn_about_partitions() -> None:
    counts = kafka_admin.partition_counts(kafka_broker.BOOTSTRAP, [t.name for t in TOPICS])
    for spec in TOPICS:
        found = counts[spec.name]
        if found is not None and found != spec.partitions:
            click.echo(
                f"topics: warning: {spec.name} has {found} partitions, "
                f"deploy/local/topics.py says {spec.partitions}",
                err=True,
            )


def down() -> None:
    """Stop Kafka first (its clients may write to PostgreSQL), then PostgreSQL."""
    kafka_broker.down()
    postgres.down()


def status() -> bool:
    """Say what runs, with pids, ports and topics; True when everything does."""
    healthy = _postgres_status()
    return _kafka_status() and healthy


def _postgres_status() -> bool:
    bindir = postgres.find_bindir()
    pid = postgres.running_pid()
    if bindir is None or pid is None:
        state = "not installed" if bindir is None else "not running"
        click.echo(f"postgresql: {state} (data in {relative(postgres.PGDATA)})")
        return False
    click.echo(
        f"postgresql: {postgres.version(bindir)} running, pid {pid}, "
        f"{postgres.HOST}:{postgres.PORT}, socket in {relative(postgres.SOCKET_DIR)}, "
        f"log {relative(postgres.LOG)}"
    )
    present = set(postgres.existing_databases(bindir))
    for name in postgres.DATABASES:
        click.echo(f"  database {name}: {'present' if name in present else 'MISSING'}")
    return present == set(postgres.DATABASES)


def _kafka_status() -> bool:
    pid = kafka_broker.running_pid()
    if pid is None:
        click.echo(f"kafka: not running (data in {relative(kafka_broker.LOG_DIRS)})")
        return False
    serving = kafka_admin.serves_metadata(kafka_broker.BOOTSTRAP)
    controller = f"{kafka_broker.HOST}:{kafka_broker.CONTROLLER_PORT}"
    click.echo(
        f"kafka: {kafka_broker.version()} running, pid {pid}, "
        f"{kafka_broker.BOOTSTRAP} (controller {controller}), "
        f"{'serving' if serving else 'NOT serving metadata yet'}, "
        f"log {relative(kafka_broker.LOG)}"
    )
    if not serving:
        return False
    counts = kafka_admin.partition_counts(kafka_broker.BOOTSTRAP, [t.name for t in TOPICS])
    for spec in TOPICS:
        found = counts[spec.name]
        click.echo(
            f"  topic {spec.name}: " + ("MISSING" if found is None else f"{found} partitions")
        )
    return all(counts[spec.name] == spec.partitions for spec in TOPICS)
