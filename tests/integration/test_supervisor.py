"""The supervisor restarts a crashed process with growing back-off and stops what it runs."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from deploy import processes, supervisor
from deploy.processes import ProcessSpec
from deploy.supervisor import Supervisor


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "STATE_FILE", tmp_path / "processes.json")
    monkeypatch.setattr(processes, "LOG_DIR", tmp_path)


def _running(child: supervisor._Child) -> bool:
    return child.process is not None


def test_a_crashing_process_is_restarted_with_back_off(tmp_path: Path) -> None:
    spec = ProcessSpec("crashing", "tests.integration.processes.crashing")
    assert spec.available()
    sup = Supervisor((spec,))
    (child,) = sup._children
    now = time.monotonic()
    sup._tend(child, now)
    assert child.process is not None
    child.process.wait(10)
    sup._tend(child, now + 0.1)  # noticed the exit: restart scheduled after 1 s
    assert not _running(child)
    assert child.restarts == 1
    assert child.next_start == pytest.approx(now + 1.1)
    sup._tend(child, now + 0.5)
    assert not _running(child), "not before its back-off"
    sup._tend(child, now + 1.2)
    assert child.process is not None
    child.process.wait(10)
    sup._tend(child, now + 1.3)
    assert child.restarts == 2
    assert child.next_start == pytest.approx(now + 3.3), "the back-off doubled"
    assert "exited with 3" in spec.log_file.read_text()


def test_stopping_terminates_the_children(tmp_path: Path) -> None:
    spec = ProcessSpec("sleeping", "tests.integration.processes.sleeping")
    sup = Supervisor((spec,))
    (child,) = sup._children
    sup._tend(child, time.monotonic())
    process = child.process
    assert process is not None
    sup._write_state()
    assert supervisor.STATE_FILE.exists()
    sup._stop_all()
    assert process.poll() is not None
    assert not supervisor.STATE_FILE.exists()


def test_unavailable_modules_are_left_out() -> None:
    sup = Supervisor((ProcessSpec("ghost", "services.does_not_exist"),))
    assert sup._children == []


def test_a_process_whose_loop_died_is_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setattr(supervisor, "LIVENESS_EVERY_S", 0.2)
    spec = ProcessSpec(
        "dead-loop",
        "tests.integration.processes.dead_loop",
        url=url,
        env={"BILAN_TEST_PORT": str(port)},
    )
    sup = Supervisor((spec,))
    (child,) = sup._children
    sup._tend(child, time.monotonic())
    first = child.process
    assert first is not None
    try:
        deadline = time.monotonic() + 20
        answers = []
        while child.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            sup._tend(child, time.monotonic())
            with contextlib.suppress(httpx.HTTPError):
                answers.append(httpx.get(f"{url}/healthz", timeout=1).status_code)
        # The process never exited by itself: the supervisor stopped it, seeing 503s.
        assert child.restarts == 1
        assert first.poll() is not None
        assert 503 in answers
        assert "answers 503 on /healthz" in spec.log_file.read_text()
    finally:
        sup._stop_all()
