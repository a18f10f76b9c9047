"""`bilan up | down | status`: the whole system, on top of the native stack."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from typing import Any

import click
import httpx

from deploy.local import stack
from deploy.local.procs import alive, port_open, read_pid, terminate
from deploy.processes import LOG_DIR, MAIL_DIR, PROCESSES, ProcessSpec, prepare_folders
from deploy.supervisor import PID_FILE, STATE_FILE
from deploy.tokens import dev_token
from shared.auth import ensure_dev_key_pair
from shared.settings import DEV_JWT_PRIVATE_KEY_FILE, DEV_JWT_PUBLIC_KEY_FILE

READY_TIMEOUT_S = 180.0
_LAG_LINE = re.compile(r"^bilan_consumer_lag\{[^}]*\} ([0-9.e+]+)$", re.M)


def up() -> None:
    """Start the stack, then every process under the supervisor; wait until all are ready."""
    stack.up()
    prepare_folders()
    # On a fresh clone no key pair exists yet: the services would fail to start without the
    # public key that verifies development tokens.
    ensure_dev_key_pair(DEV_JWT_PRIVATE_KEY_FILE, DEV_JWT_PUBLIC_KEY_FILE)
    pid = read_pid(PID_FILE)
    if pid is not None and alive(pid):
        click.echo(f"supervisor: already running (pid {pid})")
    else:
        with (LOG_DIR / "supervisor.log").open("ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "deploy.supervisor"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives this command; `bilan down` stops it
            )
        click.echo("supervisor: started")
    specs = [spec for spec in PROCESSES if spec.available()]
    _wait_ready(specs)
    _print_urls(specs)


def _wait_ready(specs: list[ProcessSpec]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = [spec for spec in specs if spec.url or spec.port]
    while waiting:
        waiting = [spec for spec in waiting if not _readiness(spec).startswith("ready")]
        if not waiting:
            return
        if time.monotonic() > deadline:
            names = ", ".join(f"{s.name} (log {s.log_file})" for s in waiting)
            raise click.ClickException(f"not ready after {READY_TIMEOUT_S:.0f}s: {names}")
        time.sleep(0.5)


def _readiness(spec: ProcessSpec) -> str:
    if spec.url is None:
        if spec.port is not None:
            return "ready" if port_open("127.0.0.1", spec.port) else "not listening"
        return "n/a"
    try:
        response = httpx.get(f"{spec.url}/readyz", timeout=2)
    except httpx.HTTPError:
        return "not answering"
    body = response.json() if response.content else {}
    # A dependency the process can do without (Kafka, behind the outbox) is shown, not fatal.
    degraded = {k: v for k, v in body.get("dependencies", {}).items() if v != "ok"}
    if response.status_code == 200:
        if degraded:
            return "ready (" + ", ".join(f"{k} {v}" for k, v in degraded.items()) + ")"
        return "ready"
    failing = {k: v for k, v in body.get("checks", {}).items() if v != "ok"}
    failing.update({k: v for k, v in body.get("loops", {}).items() if v != "running"})
    return "not ready: " + ", ".join(f"{k} {v}" for k, v in {**failing, **degraded}.items())


def _print_urls(specs: list[ProcessSpec]) -> None:
    click.echo("")
    for spec in specs:
        if spec.name == "console" and spec.url:
            # The development sign-in page (refused outside development).
            sign_in = f"{spec.url}/connexion/developpement"
            click.echo(f"  {'console':<11} {spec.url}   development sign-in: {sign_in}")
        elif spec.url:
            click.echo(f"  {spec.name:<11} {spec.url}   API docs: {spec.url}/docs")
    click.echo(f"  mail sink   127.0.0.1:8025 → {MAIL_DIR}")
    click.echo("  tokens      .venv/bin/bilan token --role admin")


def down() -> None:
    """Stop every process, then the stack."""
    stop_processes()
    stack.down()


def processes_running() -> bool:
    """Whether this checkout's supervisor is running."""
    pid = read_pid(PID_FILE)
    return pid is not None and alive(pid)


def stop_processes() -> None:
    """Stop the supervisor and the processes it runs; Kafka and PostgreSQL keep running."""
    pid = read_pid(PID_FILE)
    if pid is not None and alive(pid):
        clean = terminate(pid, timeout=40)
        click.echo(f"supervisor: stopped (pid {pid}){'' if clean else ' after SIGKILL'}")
    else:
        click.echo("supervisor: not running")


def status() -> bool:
    """Each process with its pid, restarts, readiness and consumer lag; False if any is down."""
    healthy = stack.status()
    pid = read_pid(PID_FILE)
    if pid is None or not alive(pid):
        click.echo("supervisor: not running")
        return False
    click.echo(f"supervisor: running (pid {pid})")
    state: dict[str, Any] = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}
    for spec in PROCESSES:
        if not spec.available():
            click.echo(f"  {spec.name}: not in this checkout")
            continue
        info = state.get(spec.name, {})
        readiness = _readiness(spec)
        lag = _consumer_lag(spec)
        projection = _projection(spec) if spec.name == "reporting" else None
        healthy = healthy and info.get("pid") is not None and readiness.startswith(("ready", "n/a"))
        detail = "" if lag is None else f", consumer lag {lag}"
        if projection is not None:
            detail, sound = projection
            healthy = healthy and sound
        click.echo(
            f"  {spec.name}: pid {info.get('pid')}, restarts {info.get('restarts', 0)}, "
            f"{readiness}{detail}, log {spec.log_file}"
        )
    return healthy


def _projection(spec: ProcessSpec) -> tuple[str, bool] | None:
    """Reporting's own account: lag from what it stored, and any gap between what it stored
    and what its group committed (offsets committed past facts never stored)."""
    try:
        body = httpx.get(
            f"{spec.url}/v1/status",
            headers={"Authorization": f"Bearer {dev_token(['admin'])}"},
            timeout=3,
        ).json()
        text = (
            f", worker {body['worker']}, projection {body['projection']}, "
            f"lag {body['total_lag']} (from what is stored), gap {body['total_gap']}"
        )
    except (httpx.HTTPError, ValueError, KeyError):
        return None
    return text, body["total_gap"] == 0 and body["worker"] in ("running", "joining")


def _consumer_lag(spec: ProcessSpec) -> int | None:
    if spec.url is None:
        return None
    try:
        text = httpx.get(f"{spec.url}/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    values = [float(v) for v in _LAG_LINE.findall(text)]
    return int(sum(values)) if values else None
