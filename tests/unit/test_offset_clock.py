"""The development clock's hold: never back, even for a moment read an instant ago."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import OffsetClock


def test_holding_a_moment_already_past_holds_now_instead() -> None:
    clock = OffsetClock()
    read = clock.now()
    # Time flowed since `read` (the advance endpoint read now(), then asked to stop there):
    # that used to raise "a clock never goes back" and answer 500 in the demo.
    held = clock.hold(read - timedelta(microseconds=1))
    assert held >= read
    assert clock.now() == held


def test_a_held_clock_stands_still_and_release_only_moves_it_on() -> None:
    clock = OffsetClock()
    target = clock.now() + timedelta(days=3)
    assert clock.hold(target) == target
    assert clock.now() == target
    assert clock.release() >= target
