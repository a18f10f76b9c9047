"""The Docker engine: Debian's `docker.io` (and `debootstrap`) installed when missing, and a
`dockerd` of this checkout's own started when none answers, stopped again afterwards.

The engine this module starts has no bridge (`--bridge=none`) and leaves the host's firewall
alone (`--iptables=false`): every container and build step uses the host's network, so all
traffic stays on the loopback interface and no private-range address is ever made.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import click

from deploy.local import procs
from deploy.local.paths import DATA_DIR, REPO_ROOT
from deploy.local.procs import StackError
from deploy.processes import LOG_DIR

CONTAINERS_DIR: Final = DATA_DIR / "containers"
DOCKER_DATA: Final = CONTAINERS_DIR / "docker"
# The engine's sockets live under /run: a Unix socket path must stay under 108 bytes, which a
# deep checkout's .data/ may not. One folder per checkout, so two checkouts never share one.
EXEC_ROOT: Final = Path("/run") / f"bilan-docker-{hashlib.sha256(bytes(REPO_ROOT)).hexdigest()[:8]}"
SOCKET: Final = EXEC_ROOT / "docker.sock"
PID_FILE: Final = EXEC_ROOT / "dockerd.pid"
DEBIAN_PACKAGES: Final = {"dockerd": "docker.io", "debootstrap": "debootstrap"}
"""A command this module needs, and the Debian package that installs it."""
START_TIMEOUT_S: Final = 60.0
_STARTED: Final = time.monotonic()
_POLICY_RC_D: Final = Path("/usr/sbin/policy-rc.d")


def say(message: str) -> None:
    """A progress line, with the seconds since the command started (to see what is slow)."""
    click.echo(f"containers [{time.monotonic() - _STARTED:5.1f}s]: {message}")


def ensure_installed() -> None:
    """Install from Debian's repository the packages whose command is missing."""
    missing = [pkg for command, pkg in DEBIAN_PACKAGES.items() if which(command) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise StackError(f"containers: run `apt-get install -y {' '.join(missing)}` as root")
    say(f"installing {', '.join(missing)} from Debian...")
    apt = {"DEBIAN_FRONTEND": "noninteractive"}
    procs.run(["apt-get", "update"], "apt-get update", env=apt, timeout=600)
    # Debian's docker.io would start a system-wide dockerd with its default bridge (a
    # private-range network); policy-rc.d exit 101 tells the package scripts not to.
    made_policy = not _POLICY_RC_D.exists()
    if made_policy:
        _POLICY_RC_D.write_text("#!/bin/sh\n# bilan containers: start no service\nexit 101\n")
        _POLICY_RC_D.chmod(0o755)
    try:
        procs.run(
            ["apt-get", "install", "-y", "--no-install-recommends", *missing],
            "apt-get install",
            env=apt,
            timeout=900,
        )
    finally:
        if made_policy:
            _POLICY_RC_D.unlink(missing_ok=True)


def which(command: str) -> str | None:
    # dockerd and debootstrap live in /usr/sbin, which a non-login root shell may not search.
    return shutil.which(command, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


@dataclass(frozen=True)
class Docker:
    """The docker client, pointed at the engine in use."""

    client: str
    host: str | None
    """DOCKER_HOST for the engine this module started; None for the default one."""

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.host is not None:
            env["DOCKER_HOST"] = self.host
        # The legacy builder: BuildKit needs the buildx plugin, which Debian's docker.io
        # does not ship; the legacy builder honours `--network host` the same way.
        env["DOCKER_BUILDKIT"] = "0"
        return env

    def run(self, *args: str | Path, what: str, timeout: float = 600, quiet: bool = True) -> str:
        """Run `docker ARGS`; its output, or StackError naming `what` with the output."""
        argv = [self.client, *map(str, args)]
        if quiet:
            return procs.run(argv, what, env=self.env, timeout=timeout)
        # Long builds print their steps as they go, so that a slow step shows where it is.
        completed = subprocess.run(argv, env=self.env, timeout=timeout, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise StackError(f"{what} failed (exit {completed.returncode})")
        return ""

    def answers(self) -> bool:
        completed = subprocess.run(  # noqa: S603 (fixed argv)
            [self.client, "version", "--format", "{{.Server.Version}}"],
            env=self.env,
            capture_output=True,
            check=False,
            timeout=30,
        )
        return completed.returncode == 0

    def ok(self, *args: str) -> bool:
        """Whether `docker ARGS` succeeds (an image or a container exists)."""
        completed = subprocess.run(  # noqa: S603 (fixed argv)
            [self.client, *args], env=self.env, capture_output=True, check=False, timeout=60
        )
        return completed.returncode == 0


def _client() -> str:
    # The client of the same package as the engine first: a newer client elsewhere on PATH
    # may default to BuildKit, which this engine lacks.
    dockerd = which("dockerd")
    if dockerd is not None:
        beside = Path(dockerd).resolve().parent.parent / "bin" / "docker"
        if beside.is_file():
            return str(beside)
    found = which("docker")
    if found is None:
        raise StackError("containers: no docker client found")
    return found


@contextlib.contextmanager
def engine() -> Iterator[Docker]:
    """A Docker engine that answers: the running one, or one started here and stopped at
    the end (its images stay in .data/containers/docker for the next run)."""
    ensure_installed()
    client = _client()
    default = Docker(client, None)
    if default.answers():
        say("using the Docker engine already running")
        yield default
        return
    ours = Docker(client, f"unix://{SOCKET}")
    pid = procs.read_pid(PID_FILE)
    if pid is not None and procs.alive(pid) and ours.answers():
        say(f"using this checkout's dockerd (pid {pid})")
        yield ours
        return
    pid = _start_dockerd(ours)
    try:
        yield ours
    finally:
        clean = procs.terminate(pid, timeout=30)
        _unmount_namespaces()
        say(f"dockerd stopped{'' if clean else ' after SIGKILL'}")


def _unmount_namespaces() -> None:
    """dockerd leaves the host network namespace it bind-mounted for host-network containers
    (`netns/default`) mounted when it stops: nothing of this run should stay mounted."""
    umount = shutil.which("umount") or "/bin/umount"
    for path in (EXEC_ROOT / "netns").glob("*"):
        if os.path.ismount(path):
            subprocess.run([umount, str(path)], check=False, timeout=30)  # noqa: S603


def _dockerd_argv() -> Sequence[str]:
    dockerd = which("dockerd")
    assert dockerd is not None  # ensure_installed() put it there
    return [
        dockerd,
        "--bridge=none",
        "--iptables=false",
        "--ip-masq=false",
        f"--data-root={DOCKER_DATA}",
        f"--exec-root={EXEC_ROOT}",
        f"--pidfile={PID_FILE}",
        f"--host=unix://{SOCKET}",
    ]


def _start_dockerd(docker: Docker) -> int:
    DOCKER_DATA.mkdir(parents=True, exist_ok=True)
    EXEC_ROOT.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_file = LOG_DIR / "dockerd.log"
    offset = procs.size(log_file)
    with log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (fixed argv)
            _dockerd_argv(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C of the test must not kill it mid-cleanup
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not docker.answers():
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise StackError(
                f"containers: dockerd did not start:\n{procs.log_excerpt(log_file, offset)}"
            )
        time.sleep(0.5)
    say(f"dockerd started (pid {process.pid}, no bridge, log {log_file})")
    return process.pid
