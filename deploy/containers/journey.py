"""`bilan containers test`: the end-to-end journey against the Bilan image's containers.

Every process of the image (deploy/processes.py, `in_image`) runs in its own container with
the Compose file's hardening — read-only root filesystem, a tmpfs /tmp, the image's non-root
user, no capabilities, no new privileges — and the host's network, against the native Kafka
and PostgreSQL on 127.0.0.1. The init step runs in a container first. The mail sink stays a
native test fixture (the journey reads its Maildir). The containers are removed at the end,
whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import click
import httpx

from deploy.containers import images
from deploy.containers.engine import Docker, engine, say
from deploy.local import procs, stack
from deploy.local.paths import REPO_ROOT
from deploy.local.procs import StackError
from deploy.processes import LOG_DIR, PROCESSES, ProcessSpec, prepare_folders
from deploy.tokens import dev_token
from shared.auth import ensure_dev_key_pair, ensure_signing_key
from shared.settings import DEV_JWT_PRIVATE_KEY_FILE, DEV_JWT_PUBLIC_KEY_FILE, DEV_KEYS_DIR

LABEL: Final = "bilan.containers-test"
READY_TIMEOUT_S: Final = 180.0
JOURNEY: Final = "tests/e2e/test_journey.py"
CONTAINER_TMP: Final = "/tmp"  # noqa: S108 (the container's own tmpfs, as in the Compose file)
HARDENING: Final = (
    "--read-only",
    "--tmpfs",
    CONTAINER_TMP,
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges:true",
    # The host's network: every connection is to 127.0.0.1, no bridge, no private address.
    "--network",
    "host",
)


def container_processes() -> list[ProcessSpec]:
    """The processes of the Bilan image in this checkout, each run in a container."""
    return [spec for spec in PROCESSES if spec.in_image and spec.available()]


def run() -> None:
    """Build, start, check the hardening, run the journey, remove; fail on any failure."""
    started = time.monotonic()
    stack.up()
    prepare_folders()
    ensure_dev_key_pair(DEV_JWT_PRIVATE_KEY_FILE, DEV_JWT_PUBLIC_KEY_FILE)
    specs = container_processes()
    _check_ports_free(specs)
    with engine() as docker:
        image = images.bilan_image(docker)
        _remove_leftovers(docker)
        _init(docker, image)
        with _mail_sink(), _containers(docker, image, specs) as names:
            _wait_ready(docker, specs, names)
            _check_hardening(docker, names)
            _journey()
            _check_still_running(docker, names)
    say(f"journey passed against containers in {time.monotonic() - started:.0f}s")


def _check_ports_free(specs: Sequence[ProcessSpec]) -> None:
    """The containers listen on the host's ports: whatever holds one would answer instead."""
    ports = [int(spec.url.rsplit(":", 1)[1]) for spec in specs if spec.url]
    ports += [spec.port for spec in PROCESSES if not spec.in_image and spec.port is not None]
    busy = [port for port in ports if procs.port_open("127.0.0.1", port)]
    if busy:
        holders = "; ".join(f"{port}: {procs.port_holder(port)}" for port in busy)
        raise StackError(
            f"containers: ports in use ({holders}); stop what serves there (`bilan down`)"
        )


def _remove_leftovers(docker: Docker) -> None:
    """Containers an interrupted run left behind."""
    left = docker.run("ps", "-aq", "--filter", f"label={LABEL}", what="docker ps").split()
    if left:
        docker.run("rm", "-f", *left, what="docker rm")


def _env_args(env: dict[str, str]) -> list[str]:
    return [part for key, value in sorted(env.items()) for part in ("--env", f"{key}={value}")]


def _init(docker: Docker, image: str) -> None:
    """`python -m deploy.init` in a container: topics and migrations (idempotent)."""
    say("init (topics, migrations) in a container...")
    output = docker.run(
        "run",
        "--rm",
        "--label",
        LABEL,
        *HARDENING,
        image,
        "python",
        "-m",
        "deploy.init",
        what="the init container",
        timeout=300,
    )
    click.echo("\n".join(f"  init | {line}" for line in output.splitlines()[-5:]))


def _service_env(spec: ProcessSpec, internal_token: str) -> dict[str, str]:
    prefix = f"BILAN_{spec.name.upper()}_"
    env = dict(spec.env)
    # Only settings the process has: the console verifies no token (it issues people's), and
    # neither it nor reporting calls another service with the internal token.
    if spec.name != "console":
        env[f"{prefix}JWT_PUBLIC_KEY_FILE"] = "/keys/dev-jwt-public.pem"
    if spec.name not in ("console", "reporting"):
        # In development a service mints its calls' tokens from the private key, which only
        # the host's user may read; a container is given one minted here, as in production.
        env[f"{prefix}INTERNAL_TOKEN"] = internal_token
    return env


def _console_key(folder: Path) -> Path:
    """A copy of the console's development signing key the container's user may read.

    The console signs people's tokens with it; the host's copy is the host user's alone
    (mode 600), and a read-only container cannot make one. A development key only."""
    source = DEV_KEYS_DIR / "console-signing.pem"
    ensure_signing_key(source)
    copy = folder / "console-signing.pem"
    shutil.copyfile(source, copy)
    folder.chmod(0o755)
    copy.chmod(0o644)
    return copy


@contextlib.contextmanager
def _containers(docker: Docker, image: str, specs: Sequence[ProcessSpec]) -> Iterator[list[str]]:
    token = dev_token(["service"], subject="internal", lifetime=timedelta(hours=3))
    names: list[str] = []
    keys = Path(tempfile.mkdtemp(prefix="bilan-containers-keys-"))
    try:
        for spec in specs:
            name = f"bilan-test-{spec.name}"
            console: list[str] = []
            if spec.name == "console":
                console = [
                    "--volume",
                    f"{_console_key(keys)}:/keys/console-signing.pem:ro",
                    "--env",
                    "BILAN_CONSOLE_SIGNING_KEY_FILE=/keys/console-signing.pem",
                ]
            docker.run(
                "run",
                "--detach",
                "--name",
                name,
                "--label",
                LABEL,
                *HARDENING,
                "--volume",
                f"{DEV_KEYS_DIR}/dev-jwt-public.pem:/keys/dev-jwt-public.pem:ro",
                *console,
                *_env_args(_service_env(spec, token)),
                image,
                "python",
                "-m",
                spec.module,
                what=f"docker run of {spec.name}",
            )
            names.append(name)
            say(f"{name} started")
        yield names
    finally:
        for name in names:
            _save_log(docker, name)
        if names:
            docker.run("rm", "-f", *names, what="docker rm")
            say(f"removed {', '.join(names)}")
        shutil.rmtree(keys, ignore_errors=True)


def _save_log(docker: Docker, name: str) -> None:
    with (LOG_DIR / f"{name}.log").open("wb") as log:
        subprocess.run(  # noqa: S603 (fixed argv)
            [docker.client, "logs", name],
            env=docker.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=60,
        )


@contextlib.contextmanager
def _mail_sink() -> Iterator[None]:
    """The native mail sink the services send to, writing the Maildir the journey reads."""
    (sink,) = [spec for spec in PROCESSES if not spec.in_image and spec.port is not None]
    with sink.log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (fixed argv)
            sink.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + 30
        assert sink.port is not None
        while not procs.port_open("127.0.0.1", sink.port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise StackError(f"containers: the mail sink did not start (log {sink.log_file})")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_ready(docker: Docker, specs: Sequence[ProcessSpec], names: Sequence[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = {spec.name: spec for spec in specs if spec.url}
    while waiting:
        for name, spec in list(waiting.items()):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{spec.url}/readyz", timeout=2).status_code == 200:
                    del waiting[name]
        exited = [n for n in names if not _state(docker, n)["Running"]]
        if exited or (waiting and time.monotonic() > deadline):
            culprits = exited or [f"bilan-test-{name}" for name in waiting]
            logs = "\n".join(f"--- {n}:\n{_tail(docker, n)}" for n in culprits)
            raise StackError(f"containers: not ready ({', '.join(culprits)}):\n{logs}")
        if waiting:
            time.sleep(0.5)
    say(f"{', '.join(spec.name for spec in specs)} ready")


def _tail(docker: Docker, name: str) -> str:
    completed = subprocess.run(  # noqa: S603 (fixed argv)
        [docker.client, "logs", "--tail", "30", name],
        env=docker.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return (completed.stdout + completed.stderr).strip()


def _inspect(docker: Docker, name: str) -> dict[str, Any]:
    (info,) = json.loads(docker.run("inspect", name, what=f"docker inspect {name}"))
    result: dict[str, Any] = info
    return result


def _state(docker: Docker, name: str) -> dict[str, Any]:
    state: dict[str, Any] = _inspect(docker, name)["State"]
    return state


def hardening_problems(info: dict[str, Any]) -> list[str]:
    """What, in a container's `docker inspect`, falls short of the Compose file's hardening."""
    host = info["HostConfig"]
    problems = []
    if host.get("ReadonlyRootfs") is not True:
        problems.append("the root filesystem is writable")
    if CONTAINER_TMP not in (host.get("Tmpfs") or {}):
        problems.append("no tmpfs on /tmp")
    if host.get("CapDrop") != ["ALL"] or host.get("CapAdd"):
        problems.append(f"capabilities: drop {host.get('CapDrop')}, add {host.get('CapAdd')}")
    if "no-new-privileges:true" not in (host.get("SecurityOpt") or []):
        problems.append("new privileges allowed")
    if host.get("Privileged"):
        problems.append("privileged")
    if host.get("NetworkMode") != "host":
        problems.append(f"network {host.get('NetworkMode')}, not the host's")
    if info["Config"].get("User", "") in ("", "0", "root", "0:0"):
        problems.append("runs as root")
    return problems


def _check_hardening(docker: Docker, names: Sequence[str]) -> None:
    for name in names:
        problems = hardening_problems(_inspect(docker, name))
        # What the kernel says, not only the configuration: the process's user id.
        uid = docker.run("exec", name, "id", "-u", what=f"id -u in {name}").strip()
        if uid == "0":
            problems.append("its process runs as uid 0")
        if problems:
            raise StackError(f"containers: {name}: {'; '.join(problems)}")
    say("read-only root, tmpfs /tmp, non-root, no capabilities: checked")


def _journey() -> None:
    say(f"{JOURNEY} against the containers...")
    completed = subprocess.run(  # noqa: S603 (fixed argv)
        [sys.executable, "-m", "pytest", JOURNEY, "-q", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        # The e2e fixture would otherwise start native services if the containers did not
        # answer, and the journey would pass without them.
        env={**os.environ, "BILAN_E2E_REQUIRE_RUNNING": "1"},
        check=False,
    )
    if completed.returncode != 0:
        raise StackError(
            f"containers: the journey failed against the containers (exit {completed.returncode})"
        )


def _check_still_running(docker: Docker, names: Sequence[str]) -> None:
    """A container that crashed (and so was not what answered) fails the run."""
    for name in names:
        state = _state(docker, name)
        if not state["Running"] or _inspect(docker, name)["RestartCount"]:
            raise StackError(
                f"containers: {name} stopped during the journey:\n{_tail(docker, name)}"
            )
