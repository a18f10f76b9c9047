"""The supervisor `bilan up` leaves running: starts every process, restarts a crashed one
with back-off, writes logs to files, and stops them all on SIGTERM.

Like a Kubernetes liveness probe, it also asks each HTTP process's `/healthz` every few
seconds: a process that answers 503 (one of its background loops died: the relay, the
consumer, the timers) is alive only in name, so it is stopped and restarted like a crashed one.
A process that does not answer at all (busy, or paused) is left alone.

Run as `python -m deploy.supervisor`; its state is in `.data/run/processes.json`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from types import FrameType

import httpx

from deploy.local.procs import rotate_log
from deploy.processes import PROCESSES, RUN_DIR, ProcessSpec, prepare_folders

STATE_FILE = RUN_DIR / "processes.json"
PID_FILE = RUN_DIR / "supervisor.pid"
STABLE_AFTER_S = 60.0
"""A process that ran this long is healthy again: its back-off starts over."""
MAX_BACKOFF_S = 30.0
LIVENESS_EVERY_S = 5.0
LIVENESS_FAILURES = 2
"""Consecutive 503s from `/healthz` after which a process is restarted."""


@dataclass
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = 1.0
    next_start: float = 0.0
    next_probe: float = 0.0
    failed_probes: int = 0


class Supervisor:
    def __init__(self, specs: tuple[ProcessSpec, ...]) -> None:
        self._children = [_Child(spec) for spec in specs if spec.available()]
        self._stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        while not self._stopping:
            now = time.monotonic()
            for child in self._children:
                self._tend(child, now)
            self._write_state()
            time.sleep(0.5)
        self._stop_all()

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _tend(self, child: _Child, now: float) -> None:
        if child.process is not None:
            code = child.process.poll()
            if code is None:
                if now - child.started_at > STABLE_AFTER_S:
                    child.backoff_s = 1.0
                if not self._alive(child, now):
                    self._note(child, "answers 503 on /healthz (a background loop died)")
                    self._terminate(child.process)
                    code = child.process.poll()
                else:
                    return
            child.process = None
            child.restarts += 1
            child.next_start = now + child.backoff_s
            child.backoff_s = min(child.backoff_s * 2, MAX_BACKOFF_S)
            self._note(child, f"exited with {code}; restarting in {child.next_start - now:.0f}s")
        if now >= child.next_start:
            self._start(child, now)

    def _alive(self, child: _Child, now: float) -> bool:
        """False once `/healthz` answered 503 LIVENESS_FAILURES times in a row."""
        if child.spec.url is None or now < child.next_probe:
            return True
        child.next_probe = now + LIVENESS_EVERY_S
        try:
            answer = httpx.get(f"{child.spec.url}/healthz", timeout=1.0).status_code
        except httpx.HTTPError:
            return True  # starting, busy or paused: not a verdict
        child.failed_probes = child.failed_probes + 1 if answer == 503 else 0
        if child.failed_probes >= LIVENESS_FAILURES:
            child.failed_probes = 0
            return False
        return True

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _start(self, child: _Child, now: float) -> None:
        rotate_log(child.spec.log_file)
        with child.spec.log_file.open("ab") as log:
            child.process = subprocess.Popen(  # noqa: S603 (argv from PROCESSES)
                child.spec.argv(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **child.spec.env},
            )
        child.started_at = now
        child.next_probe = now + LIVENESS_EVERY_S
        child.failed_probes = 0

    def _note(self, child: _Child, text: str) -> None:
        with child.spec.log_file.open("a") as log:
            log.write(json.dumps({"supervisor": text, "process": child.spec.name}) + "\n")

    def _write_state(self) -> None:
        state = {
            child.spec.name: {
                "pid": child.process.pid if child.process else None,
                "restarts": child.restarts,
                "url": child.spec.url,
                "log": str(child.spec.log_file),
            }
            for child in self._children
        }
        tmp = STATE_FILE.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(STATE_FILE)

    def _stop_all(self) -> None:
        running = [c.process for c in self._children if c.process is not None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        deadline = time.monotonic() + 20
        for process in running:
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        STATE_FILE.unlink(missing_ok=True)


def main() -> None:
    prepare_folders()
    PID_FILE.write_text(f"{os.getpid()}\n")
    try:
        Supervisor(PROCESSES).run()
    finally:
        PID_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
