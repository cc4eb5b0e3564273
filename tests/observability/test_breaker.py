"""The circuit breaker's states: closed → open → half-open → closed (or open again)."""

from __future__ import annotations

from router.observability.breaker import BreakerState, CircuitBreaker
from router.observability.config import BreakerConfig


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, changes: list[BreakerState]) -> CircuitBreaker:
    config = BreakerConfig(failure_threshold=3, cool_down=10.0, half_open_probes=1)
    return CircuitBreaker(config, on_change=changes.append, clock=clock)


def test_opens_after_consecutive_failures_and_fails_fast():
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(2):
        assert b.allow()
        b.failed()
    assert b.state is BreakerState.CLOSED
    assert b.allow()
    b.failed()
    assert b.state is BreakerState.OPEN
    assert not b.allow()
    assert changes == [BreakerState.OPEN]


def test_a_success_resets_the_failure_count():
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    b.failed()
    b.failed()
    b.succeeded()
    b.failed()
    b.failed()
    assert b.state is BreakerState.CLOSED


def test_half_open_lets_one_probe_through_after_the_cool_down_and_closes_on_success():
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(3):
        b.failed()
    clock.now = 10.5
    assert b.allow()  # the probe
    assert b.state is BreakerState.HALF_OPEN
    assert not b.allow()  # others fail fast while the probe is out
    b.succeeded()
    assert b.state is BreakerState.CLOSED
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_probe_opens_again_for_another_cool_down():
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(3):
        b.failed()
    clock.now = 11
    assert b.allow()
    b.failed()
    assert b.state is BreakerState.OPEN
    clock.now = 15
    assert not b.allow()
    clock.now = 21.5
    assert b.allow()


def test_a_cancelled_probe_frees_its_slot():
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(3):
        b.failed()
    clock.now = 11
    assert b.allow()
    b.released()
    assert b.allow()


def test_disabled_breaker_never_opens():
    b = CircuitBreaker(BreakerConfig(enabled=False, failure_threshold=1))
    b.failed()
    assert b.allow()
