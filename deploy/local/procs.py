"""Small process, port and file helpers shared by the Kafka and PostgreSQL scripts."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import click


class StackError(click.ClickException):
    """A failure the user can act on; the CLI prints the message and exits with 1."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_holder(port: int) -> str:
    """Describe the process listening on ``port``, as well as ``ss`` can tell."""
    ss = shutil.which("ss")
    if ss is None:
        return "another process"
    result = subprocess.run(  # noqa: S603
        [ss, "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    )
    holders = sorted(set(re.findall(r'\("([^"]+)",pid=(\d+)', result.stdout)))
    if not holders:
        return "another process (ss could not name it)"
    return ", ".join(f"{name} (pid {pid}: {cmdline(int(pid))})" for name, pid in holders)


def cmdline(pid: int) -> str:
    """The command line of ``pid``, or an empty string when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; zombies count as dead."""
    # When the process is our own child (a test that started and stopped the stack),
    # it stays a zombie until reaped, and a zombie still answers kill(pid, 0).
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def read_pid(path: Path) -> int | None:
    """The pid on the first line of ``path``, or None when missing or garbled."""
    try:
        first = path.read_text().splitlines()[0]
        return int(first.strip())
    except (OSError, IndexError, ValueError):
        return None


def terminate(pid: int, timeout: float) -> bool:
    """SIGTERM ``pid`` and wait for it; SIGKILL after ``timeout``. True if it exited cleanly."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    if wait_exit(pid, timeout):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    wait_exit(pid, 10.0)
    return False


def wait_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def run(
    cmd: Sequence[str | Path],
    what: str,
    *,
    cwd: Path | None = None,
    input_text: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    """Run ``cmd`` to completion and return its output; raise StackError naming ``what``."""
    try:
        # Commands are assembled by this package from constants, never from user input.
        result = subprocess.run(  # noqa: S603
            [str(part) for part in cmd],
            cwd=cwd,
            input=input_text,
            env=None if env is None else {**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            # A Ctrl-C in the terminal must not reach daemons started from here.
            start_new_session=True,
        )
    except subprocess.TimeoutExpired as error:
        raise StackError(f"{what}: timed out after {timeout:.0f}s") from error
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise StackError(f"{what} failed (exit {result.returncode}):\n{output}")
    return output


def rotate_log(path: Path, max_bytes: int = 20 * 1024 * 1024) -> None:
    """Keep one previous generation of a log that grows across restarts."""
    try:
        if path.stat().st_size > max_bytes:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def size(path: Path) -> int:
    """The current size of a log, to read only what a run adds to it."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


_FAILURE = re.compile(r"\] (ERROR|FATAL) |^(Error|Exception|Caused by)")


def log_excerpt(path: Path, offset: int = 0, lines: int = 25) -> str:
    """The lines of a log after ``offset`` that explain a failure, for error messages.

    Shutdown chatter follows the real error in Kafka's log, so error lines come first.
    """
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except OSError:
        return "(no log yet)"
    all_lines = text.splitlines()
    failures = [line for line in all_lines if _FAILURE.search(line)][:10]
    if not failures:
        return "\n".join(all_lines[-lines:])
    return "\n".join([*failures, "...", *all_lines[-5:]])
