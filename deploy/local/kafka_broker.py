"""A single-node Apache Kafka in KRaft mode (broker and controller in one JVM).

The jars come from Maven Central through ``deploy/local/kafka/pom.xml``; the broker runs
detached from the CLI, with its pid in ``.data/kafka/kafka.pid``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Final

import click

from deploy.local import kafka_admin, procs
from deploy.local.paths import DATA_DIR, LOCAL_DIR, relative
from deploy.local.procs import StackError

HOST: Final = "127.0.0.1"
PORT: Final = 9092
CONTROLLER_PORT: Final = 9093
BOOTSTRAP: Final = f"{HOST}:{PORT}"

POM: Final = LOCAL_DIR / "kafka" / "pom.xml"
LOG4J_CONFIG: Final = LOCAL_DIR / "kafka" / "log4j2.properties"
KAFKA_DIR: Final = DATA_DIR / "kafka"
LIBS: Final = KAFKA_DIR / "libs"
LIBS_STAMP: Final = LIBS / ".pom.sha256"
LOG_DIRS: Final = KAFKA_DIR / "data"
SERVER_PROPERTIES: Final = KAFKA_DIR / "server.properties"
CLUSTER_ID: Final = KAFKA_DIR / "cluster-id"
PID_FILE: Final = KAFKA_DIR / "kafka.pid"
LOG: Final = KAFKA_DIR / "kafka.log"

HEAP: Final = ("-Xms256m", "-Xmx512m")
START_TIMEOUT: Final = 120.0
STOP_TIMEOUT: Final = 60.0


def version() -> str:
    """The Kafka version the pom asks for."""
    found = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", POM.read_text())
    if found is None:
        raise StackError(f"{relative(POM)} has no <kafka.version> property")
    return found.group(1)


def server_properties(
    port: int = PORT, controller_port: int = CONTROLLER_PORT, log_dirs: Path = LOG_DIRS
) -> str:
    """The broker's configuration: a combined broker+controller, everything on loopback.

    The ports and folder are parameters so that the fault tests can run a private broker of
    their own (tests/faults), which they may kill without touching the shared stack.
    """
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(log_dirs),
        # One node: internal topics cannot have more than one replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Topics are created by `bilan stack up` with their partitions and retention;
        # a typo in a topic name must fail rather than create a new topic.
        "auto.create.topics.enable": "false",
        # Tests and local runs start consumer groups often; waiting 3 s each time is waste.
        "group.initial.rebalance.delay.ms": "0",
    }
    header = "# Written by deploy/local/kafka_broker.py at every `bilan stack up`; edit it there.\n"
    return header + "".join(f"{key}={value}\n" for key, value in settings.items())


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def ensure_libs() -> bool:
    """Copy the broker's jars into .data/kafka/libs unless they match the pom; True if fetched."""
    digest = _pom_digest()
    if LIBS_STAMP.is_file() and LIBS_STAMP.read_text().strip() == digest:
        return False
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven is needed to fetch Kafka's jars: apt-get install -y maven")
    staging = KAFKA_DIR / "libs.partial"
    shutil.rmtree(staging, ignore_errors=True)
    click.echo(f"kafka: fetching Apache Kafka {version()} jars from Maven Central...")
    procs.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            POM,
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ],
        "mvn dependency:copy-dependencies",
        cwd=POM.parent,
        timeout=900,
    )
    # The stamp is written last, into a folder renamed into place: an interrupted
    # download is never mistaken for a complete classpath.
    (staging / LIBS_STAMP.name).write_text(digest + "\n")
    shutil.rmtree(LIBS, ignore_errors=True)
    staging.rename(LIBS)
    return True


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("Java 17+ is needed for Kafka: apt-get install -y openjdk-17-jre-headless")
    return java


def _classpath() -> str:
    return str(LIBS / "*")


def _cluster_id() -> str:
    """The cluster id, generated once like Kafka's Uuid.randomUuid (base64url, no padding)."""
    if CLUSTER_ID.is_file():
        return CLUSTER_ID.read_text().strip()
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka rejects ids starting with a dash: they read as command-line options.
        if not candidate.startswith("-"):
            break
    CLUSTER_ID.write_text(candidate + "\n")
    return candidate


def ensure_formatted() -> bool:
    """Format the KRaft storage once (a standalone controller quorum); True if formatted now."""
    if (LOG_DIRS / "meta.properties").is_file():
        return False
    procs.run(
        [
            _java(),
            "-cp",
            _classpath(),
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            _cluster_id(),
            "-c",
            SERVER_PROPERTIES,
        ],
        "kafka storage format",
        cwd=KAFKA_DIR,
        timeout=120,
    )
    return True


def running_pid() -> int | None:
    """The pid of our broker when it runs; a stale pid file is removed."""
    pid = procs.read_pid(PID_FILE)
    if pid is None:
        return None
    command = procs.cmdline(pid)
    if procs.alive(pid) and "kafka.Kafka" in command and str(SERVER_PROPERTIES) in command:
        return pid
    PID_FILE.unlink(missing_ok=True)
    return None


def _refuse_taken_ports() -> None:
    for port in (PORT, CONTROLLER_PORT):
        if procs.port_open(HOST, port):
            raise StackError(
                f"kafka: {HOST}:{port} is already taken by {procs.port_holder(port)}; "
                "stop it first (this stack does not touch processes it did not start)"
            )


def start() -> int:
    """Launch the broker detached and return its pid, without waiting for it."""
    _refuse_taken_ports()
    command = [
        _java(),
        *HEAP,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        "-cp",
        _classpath(),
        "kafka.Kafka",
        str(SERVER_PROPERTIES),
    ]
    with LOG.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=KAFKA_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: the broker outlives the CLI and ignores the terminal's Ctrl-C.
            start_new_session=True,
        )
    PID_FILE.write_text(f"{process.pid}\n")
    return process.pid


def wait_ready(pid: int, log_offset: int = 0, timeout: float = START_TIMEOUT) -> None:
    """Wait until the broker listens and serves metadata; raise StackError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not procs.alive(pid):
            PID_FILE.unlink(missing_ok=True)
            raise StackError(
                f"kafka: the broker exited during start-up; see {relative(LOG)}:\n"
                + procs.log_excerpt(LOG, log_offset)
            )
        if procs.port_open(HOST, PORT) and kafka_admin.serves_metadata(BOOTSTRAP):
            return
        time.sleep(0.25)
    raise StackError(
        f"kafka: not serving on {BOOTSTRAP} after {timeout:.0f}s (pid {pid} still runs); "
        f"see {relative(LOG)}"
    )


def up() -> None:
    """Fetch, configure, format and start the broker unless it already runs."""
    KAFKA_DIR.mkdir(parents=True, exist_ok=True)
    pid = running_pid()
    if pid is not None:
        if not kafka_admin.serves_metadata(BOOTSTRAP):
            wait_ready(pid, procs.size(LOG))
        click.echo(f"kafka: already running (pid {pid}, {BOOTSTRAP})")
        return
    began = time.monotonic()
    ensure_libs()
    SERVER_PROPERTIES.write_text(server_properties())
    if ensure_formatted():
        click.echo(f"kafka: formatted KRaft storage in {relative(LOG_DIRS)}")
    procs.rotate_log(LOG)
    log_offset = procs.size(LOG)
    pid = start()
    wait_ready(pid, log_offset)
    elapsed = time.monotonic() - began
    click.echo(f"kafka: {version()} started (pid {pid}, {BOOTSTRAP}) in {elapsed:.1f}s")


def down() -> None:
    """Stop the broker with SIGTERM (a clean shutdown), SIGKILL after a timeout."""
    pid = running_pid()
    if pid is None:
        click.echo("kafka: not running")
        return
    began = time.monotonic()
    clean = procs.terminate(pid, STOP_TIMEOUT)
    PID_FILE.unlink(missing_ok=True)
    elapsed = time.monotonic() - began
    if clean:
        click.echo(f"kafka: stopped (pid {pid}) in {elapsed:.1f}s")
    else:
        click.echo(f"kafka: killed (pid {pid}) after {STOP_TIMEOUT:.0f}s; see {relative(LOG)}")
