"""Private PostgreSQL and Kafka servers that a fault test may stop, crash or pause.

The shared stack (`bilan stack up`) serves every other test, so a fault is never injected
there: each fault test starts its own server from the same binaries (Debian's PostgreSQL, the
Kafka jars of `.data/kafka/libs`) on free loopback ports, in a temporary folder, and removes
it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from deploy.local import kafka_admin, kafka_broker, postgres

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_port(port: int, *, open_: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            is_open = probe.connect_ex((HOST, port)) == 0
        if is_open == open_:
            return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} still {'closed' if open_ else 'open'} after {timeout}s")


class PrivatePostgres:
    """A throwaway PostgreSQL cluster with the `bilan` role (password auth on loopback)."""

    def __init__(self) -> None:
        bindir = postgres.find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: run `bilan stack up` first")
        self._bindir = bindir
        self.port = free_port()
        self._root = Path(tempfile.mkdtemp(prefix="bilan-faults-pg-"))
        self._data = self._root / "data"
        if os.geteuid() == 0:
            shutil.chown(self._root, postgres.SYSTEM_USER, postgres.SYSTEM_USER)
        self._run("initdb", "-D", self._data, "--username=postgres", "--auth=trust", "-E", "UTF8")
        with (self._data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{HOST}'\nport = {self.port}\n"
                f"unix_socket_directories = '{self._root}'\nmax_connections = 200\n"
            )

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://bilan:bilan@{HOST}:{self.port}/{database}"

    def _run(self, tool: str, *args: str | Path) -> None:
        command: list[str | Path] = [self._bindir / tool, *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", postgres.SYSTEM_USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self._root, timeout=120)  # noqa: S603

    def start(self) -> None:
        log = self._root / "postgres.log"
        self._run("pg_ctl", "-D", self._data, "-l", log, "-w", "-t", "60", "start")

    def crash(self) -> None:
        """What a power cut looks like to clients: every backend gone at once."""
        self._run("pg_ctl", "-D", self._data, "-m", "immediate", "stop")
        _wait_port(self.port, open_=False, timeout=30)

    async def create_database(self, name: str) -> str:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = 'bilan'")
            if not exists:
                await admin.execute("CREATE ROLE bilan LOGIN PASSWORD 'bilan'")
            await admin.execute(f'CREATE DATABASE "{name}" OWNER bilan')
        finally:
            await admin.close()
        return self.dsn(name)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", self._data, "-m", "immediate", "stop")
        shutil.rmtree(self._root, ignore_errors=True)


class PrivateKafka:
    """A throwaway single-node KRaft broker from the stack's jars."""

    def __init__(self) -> None:
        if not kafka_broker.LIBS_STAMP.is_file():
            raise RuntimeError("the Kafka jars are missing: run `bilan stack up` first")
        self.port = free_port()
        self._controller_port = free_port()
        self._root = Path(tempfile.mkdtemp(prefix="bilan-faults-kafka-"))
        self._properties = self._root / "server.properties"
        self._properties.write_text(
            kafka_broker.server_properties(self.port, self._controller_port, self._root / "data")
        )
        self._process: subprocess.Popen[bytes] | None = None
        subprocess.run(  # noqa: S603
            [
                *self._java(),
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                "bilanfaultstestcluster",
                "-c",
                str(self._properties),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @staticmethod
    def _java() -> list[str]:
        java = shutil.which("java") or "java"
        return [
            java,
            f"-Dlog4j2.configurationFile={kafka_broker.LOG4J_CONFIG}",
            "-cp",
            str(kafka_broker.LIBS / "*"),
        ]

    def start(self, timeout: float = 90) -> None:
        log = (self._root / "kafka.log").open("ab")
        java, *options = self._java()
        self._process = subprocess.Popen(  # noqa: S603
            [java, *kafka_broker.HEAP, *options, "kafka.Kafka", str(self._properties)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not kafka_admin.serves_metadata(self.bootstrap):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private Kafka did not start; see {self._root}/kafka.log")
            time.sleep(0.25)

    def kill(self) -> None:
        """kill -9: the broker vanishes mid-request."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(30)
            self._process = None
        _wait_port(self.port, open_=False, timeout=30)

    def remove(self) -> None:
        if self._process is not None:
            self.kill()
        shutil.rmtree(self._root, ignore_errors=True)
