"""Per-subgraph circuit breaker: closed → open → half-open → closed.

In: the outcome of each fetch to one subgraph (after its retries). Out: whether the next fetch
may go out. ``failure_threshold`` consecutive failures open the breaker; while open every fetch
fails fast (``SUBGRAPH_CIRCUIT_OPEN``) without touching the network; after ``cool_down``
seconds up to ``half_open_probes`` fetches go through as probes: a success closes the breaker,
a failure opens it again for another cool-down. A GraphQL error in a 200 answer is a success
here (the subgraph is up); transport failures, timeouts and bad responses are failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum

from router.observability.config import BreakerConfig


class BreakerState(IntEnum):
    """The values of the ``router_breaker_state`` gauge."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """The breaker of one subgraph; single event loop, so no locks."""

    def __init__(
        self,
        config: BreakerConfig,
        *,
        on_change: Callable[[BreakerState], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.probes = 0
        self.on_change = on_change
        self.clock = clock

    def allow(self) -> bool:
        """Whether a fetch may go out now (a half-open probe counts until it reports back)."""
        if self.state is BreakerState.CLOSED or not self.config.enabled:
            return True
        if self.state is BreakerState.OPEN:
            if self.clock() - self.opened_at < self.config.cool_down:
                return False
            self._move(BreakerState.HALF_OPEN)
        if self.probes >= self.config.half_open_probes:
            return False
        self.probes += 1
        return True

    def succeeded(self) -> None:
        self.failures = 0
        if self.state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def failed(self) -> None:
        if not self.config.enabled:
            return
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or (
            self.state is BreakerState.CLOSED and self.failures >= self.config.failure_threshold
        ):
            self.opened_at = self.clock()
            self._move(BreakerState.OPEN)

    def released(self) -> None:
        """A let-through fetch ended without an outcome (cancelled): free its probe slot."""
        if self.state is BreakerState.HALF_OPEN and self.probes:
            self.probes -= 1

    def _move(self, state: BreakerState) -> None:
        self.state = state
        self.probes = 0
        if self.on_change is not None:
            self.on_change(state)
